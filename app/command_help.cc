// Rendering the command table: the overview, a command's help, the man page and the bash
// completion. All four come from the same entries so that they cannot disagree.
#include "app/command_table.h"

#include <algorithm>
#include <sstream>

#ifndef CASELEDGER_VERSION
#define CASELEDGER_VERSION "0.0.0"
#endif

namespace caseledger::app {
namespace {

std::string_view FirstWord(std::string_view name) { return name.substr(0, name.find(' ')); }

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

const CommandSpec* FindCommand(const std::vector<std::string>& args, size_t* words) {
  if (args.empty()) return nullptr;
  for (const CommandSpec& c : Commands()) {  // a group member: "bench rebuild"
    if (args.size() >= 2 && c.name == args[0] + " " + args[1]) {
      *words = 2;
      return &c;
    }
  }
  for (const CommandSpec& c : Commands()) {
    if (c.name == args[0]) {
      *words = 1;
      return &c;
    }
  }
  return nullptr;
}

std::vector<const CommandSpec*> GroupMembers(std::string_view group) {
  std::vector<const CommandSpec*> members;
  for (const CommandSpec& c : Commands()) {
    std::string_view name = c.name;
    if (name.size() > group.size() && FirstWord(name) == group) members.push_back(&c);
  }
  return members;
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

std::string Overview() {
  std::ostringstream out;
  out << "usage: caseledger <command> [flags]\n"
         "       caseledger <command> --help     a command's own flags\n"
         "       caseledger --version | --help-man | --help-completion\n\ncommands:\n";
  for (const CommandSpec& c : Commands()) {
    std::string name = c.name;
    out << "  " << name << std::string(name.size() < 15 ? 15 - name.size() : 1, ' ') << c.summary << "\n";
  }
  out << "\nExit codes: 0 ok, 1 failure, 2 usage error. Documentation: docs/cli.md.\n";
  return out.str();
}

std::string HelpText(const CommandSpec& command) {
  std::ostringstream out;
  for (size_t i = 0; i < command.usage.size(); ++i) {
    out << (i == 0 ? "usage: " : "       ") << "caseledger " << command.name << " " << command.usage[i]
        << "\n";
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

std::string ManPage() {
  std::ostringstream out;
  out << ".TH CASELEDGER 1 \"\" \"caseledger " CASELEDGER_VERSION "\" \"User Commands\"\n"
      << ".SH NAME\ncaseledger \\- event\\-sourced COVID\\-19 case registry\n"
      << ".SH SYNOPSIS\n.B caseledger\n.I command\n[\\fIflags\\fR]\n.br\n"
      << ".B caseledger\n.I command\n\\fB\\-\\-help\\fR\n"
      << ".SH DESCRIPTION\n"
      << "caseledger keeps every registration, swab, lab result and quarantine or isolation "
         "decision of a regional COVID\\-19 response as an immutable, hash\\-chained event in a "
         "RocksDB log, serves an HTTP API over it and keeps read views (municipality, school, "
         "GP, lab, region) that follow the log.\n"
      << ".SH COMMANDS\n";
  for (const CommandSpec& c : Commands()) {
    out << ".SS \"" << Roff(c.name) << "\"\n";
    for (size_t i = 0; i < c.usage.size(); ++i) {
      if (i > 0) out << ".br\n";
      out << "\\fBcaseledger " << Roff(c.name) << "\\fR " << Roff(c.usage[i]) << "\n";
    }
    out << ".PP\n" << Roff(c.summary) << ".\n";
    if (*c.description) out << ".PP\n" << Roff(c.description) << "\n";
    for (const FlagSpec& f : c.flags) {
      out << ".TP\n\\fB\\-\\-" << Roff(f.name) << "\\fR";
      if (f.value) out << " \\fI" << Roff(f.value) << "\\fR";
      out << "\n" << Roff(f.help) << "\n";
    }
  }
  out << ".SH EXIT STATUS\n0 ok, 1 failure, 2 usage error (an unknown flag, a bad value).\n"
      << ".SH FILES\n.TP\n/etc/caseledger/caseledger.json\nthe service's configuration "
         "(serve \\-\\-config)\n.TP\n/var/lib/caseledger\nthe service's data directory\n"
      << ".SH SEE ALSO\n/usr/share/doc/caseledger/ (operations, security, API, NATS)\n";
  return out.str();
}

std::string BashCompletion() {
  std::ostringstream out;
  out << "# bash completion for caseledger (generated by caseledger --help-completion)\n"
      << "_caseledger() {\n"
      << "  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} cmd=${COMP_WORDS[1]} flags=\n"
      << "  if [[ $COMP_CWORD -eq 1 ]]; then\n    COMPREPLY=($(compgen -W \"";
  std::set<std::string> tops;
  for (const CommandSpec& c : Commands()) tops.insert(std::string(FirstWord(c.name)));
  for (const std::string& t : tops) out << t << " ";
  out << "--help --version\" -- \"$cur\"))\n    return\n  fi\n";
  for (const std::string& t : tops) {
    auto members = GroupMembers(t);
    if (!members.empty()) {
      out << "  if [[ $cmd == " << t << " && $COMP_CWORD -eq 2 ]]; then\n    COMPREPLY=($(compgen -W \"";
      for (const CommandSpec* m : members) out << std::string(m->name).substr(t.size() + 1) << " ";
      out << "\" -- \"$cur\"))\n    return\n  fi\n";
    }
  }
  out << "  case \"$cmd ${COMP_WORDS[2]}\" in\n";
  for (const CommandSpec& c : Commands()) {
    std::string name = c.name;
    out << "    \"" << name << (name.find(' ') == std::string::npos ? " \"*" : "\"") << ") flags=\"";
    for (const FlagSpec& f : c.flags) out << "--" << f.name << " ";
    out << "--help\" ;;\n";
  }
  out << "  esac\n"
      << "  case $prev in\n"
      << "    --data|--config|--auth-key|--master-key|--tls-cert|--tls-key|--jwt-public-key|--key|"
         "--rules|--reference|--store)\n"
      << "      COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n  esac\n"
      << "  COMPREPLY=($(compgen -W \"$flags\" -- \"$cur\"))\n}\n"
      << "complete -o default -F _caseledger caseledger\n";
  return out.str();
}

}  // namespace caseledger::app
