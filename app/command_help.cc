// Rendering the command table: the overview, a command's help, the man page and the bash
// completion. All four come from the same entries so that they cannot disagree.
#include "app/command_table.h"

#include <algorithm>
#include <cctype>
#include <sstream>

#ifndef CASELEDGER_VERSION
#define CASELEDGER_VERSION "0.0.0"
#endif

namespace caseledger::app {
namespace {

std::string FlagLabel(const FlagSpec& f) {
  return std::string("--") + f.name + (f.value ? std::string(" ") + f.value : "");
}

// troff: a leading dot or quote would be a request; backslashes and dashes are escaped so
// that man prints them as typed (lintian: hyphen-used-as-minus-sign).
std::string Roff(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') {
      out += "\\e";
    } else if (c == '-') {
      out += "\\-";
    } else {
      out += c;
    }
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out.insert(0, "\\&");
  return out;
}

// Paragraphs ("\n\n"-separated) wrapped at `width` columns.
std::string Wrap(std::string_view text, size_t width) {
  std::string out, line;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(' ', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view word = text.substr(start, end - start);
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      out += line + "\n";
      line.clear();
    }
    if (!line.empty()) line += ' ';
    line += word;
    start = end + 1;
  }
  return out + line;
}

}  // namespace

const CommandSpec* FindCommand(const Program& program, const std::vector<std::string>& args) {
  if (program.commands.size() == 1 && !*program.commands.front().name) return &program.commands.front();
  if (args.empty()) return nullptr;
  for (const CommandSpec& c : program.commands) {
    if (c.name == args[0]) return &c;
  }
  return nullptr;
}

std::set<std::string> ValueFlags(const CommandSpec& command) {
  std::set<std::string> names;
  for (const FlagSpec& f : command.flags)
    if (f.value) names.insert(f.name);
  return names;
}

std::set<std::string> SwitchFlags(const CommandSpec& command) {
  std::set<std::string> names;
  for (const FlagSpec& f : command.flags)
    if (!f.value) names.insert(f.name);
  return names;
}

std::string Overview(const Program& program) {
  const std::string name = program.name;
  std::ostringstream out;
  out << "usage: " << name << " <command> [flags]\n"
      << "       " << name << " <command> --help     a command's own flags\n"
      << "       " << name << " --version | --help-man | --help-completion\n\ncommands:\n";
  for (const CommandSpec& c : program.commands) {
    std::string command = c.name;
    out << "  " << command << std::string(command.size() < 15 ? 15 - command.size() : 1, ' ') << c.summary << "\n";
  }
  out << "\nExit codes: 0 ok, 1 failure, 2 usage error. Documentation: docs/cli.md.\n";
  return out.str();
}

std::string HelpText(const Program& program, const CommandSpec& command) {
  const std::string prefix = std::string(program.name) + (*command.name ? std::string(" ") + command.name : "");
  std::ostringstream out;
  for (size_t i = 0; i < command.usage.size(); ++i) {
    out << (i == 0 ? "usage: " : "       ") << prefix << " " << command.usage[i] << "\n";
  }
  out << "\n" << command.summary << ".\n";
  if (*command.description) out << "\n" << Wrap(command.description, 88) << "\n";
  if (!command.flags.empty()) out << "\nflags:\n";
  size_t width = 0;
  for (const FlagSpec& f : command.flags) width = std::max(width, FlagLabel(f).size());
  for (const FlagSpec& f : command.flags) {
    const std::string label = FlagLabel(f);
    out << "  " << label << std::string(width + 2 - label.size(), ' ') << f.help << "\n";
  }
  out << "  -h, --help" << std::string(width > 8 ? width - 8 : 2, ' ') << "print this help and exit\n";
  return out.str();
}

std::string ManPage(const Program& program) {
  const std::string name = Roff(program.name);
  std::string title = program.name;
  std::transform(title.begin(), title.end(), title.begin(), [](unsigned char c) { return std::toupper(c); });
  const bool single = program.commands.size() == 1 && !*program.commands.front().name;
  std::ostringstream out;
  out << ".TH " << Roff(title) << " 1 \"\" \"caseledger " CASELEDGER_VERSION "\" \"User Commands\"\n"
      << ".SH NAME\n" << name << " \\- " << Roff(program.summary) << "\n"
      << ".SH SYNOPSIS\n.B " << name << "\n";
  if (single) {
    out << "[\\fIflags\\fR]\n";
  } else {
    out << ".I command\n[\\fIflags\\fR]\n.br\n.B " << name << "\n.I command\n\\fB\\-\\-help\\fR\n";
  }
  out << ".SH DESCRIPTION\n" << Roff(program.description) << "\n" << (single ? ".SH OPTIONS\n" : ".SH COMMANDS\n");
  for (const CommandSpec& c : program.commands) {
    const std::string prefix = name + (*c.name ? " " + Roff(c.name) : "");
    if (*c.name) out << ".SS \"" << Roff(c.name) << "\"\n";
    for (size_t i = 0; i < c.usage.size(); ++i) {
      if (i > 0) out << ".br\n";
      out << "\\fB" << prefix << "\\fR " << Roff(c.usage[i]) << "\n";
    }
    out << ".PP\n" << Roff(c.summary) << ".\n";
    if (*c.description) out << ".PP\n" << Roff(c.description) << "\n";
    for (const FlagSpec& f : c.flags) {
      out << ".TP\n\\fB\\-\\-" << Roff(f.name) << "\\fR";
      if (f.value) out << " \\fI" << Roff(f.value) << "\\fR";
      out << "\n" << Roff(f.help) << "\n";
    }
  }
  out << ".SH EXIT STATUS\n0 ok, 1 failure, 2 usage error (an unknown flag, a bad value).\n";
  if (*program.files) out << ".SH FILES\n" << program.files;
  out << ".SH SEE ALSO\n/usr/share/doc/caseledger/ (operations, security, API, NATS)\n";
  return out.str();
}

std::string BashCompletion(const Program& program) {
  const std::string name = program.name;
  std::string function = "_" + name;
  std::replace(function.begin(), function.end(), '-', '_');
  std::ostringstream out;
  out << "# bash completion for " << name << " (generated by " << name << " --help-completion)\n"
      << function << "() {\n"
      << "  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} cmd=${COMP_WORDS[1]} flags=\n"
      << "  if [[ $COMP_CWORD -eq 1 ]]; then\n    COMPREPLY=($(compgen -W \"";
  for (const CommandSpec& c : program.commands) out << c.name << " ";
  out << "--help --version\" -- \"$cur\"))\n    return\n  fi\n";
  out << "  case \"$cmd\" in\n";
  for (const CommandSpec& c : program.commands) {
    out << "    \"" << c.name << "\") flags=\"";
    for (const FlagSpec& f : c.flags) out << "--" << f.name << " ";
    out << "--help\" ;;\n";
  }
  out << "  esac\n"
      << "  case $prev in\n"
      << "    --data|--config|--auth-key|--master-key|--tls-cert|--tls-key|--jwt-public-key|--key|"
         "--rules|--reference|--store)\n"
      << "      COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n  esac\n"
      << "  COMPREPLY=($(compgen -W \"$flags\" -- \"$cur\"))\n}\n"
      << "complete -o default -F " << function << " " << name << "\n";
  return out.str();
}

}  // namespace caseledger::app
