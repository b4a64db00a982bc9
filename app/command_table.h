// The command table of an executable, declared once: each command's name, what it does, its
// usage lines, each flag with its value and meaning, and the function that runs it.
// RunProgram() dispatches through the table, answers `--help`/`-h` on any command from it
// (stdout, exit 0), and refuses a flag the table does not list (stderr, exit 2) before the
// command runs; the man page (`--help-man`) and the bash completion (`--help-completion`)
// are generated from the same entries. The product (`caseledger`, command_table.cc) and the
// tools (`caseledger-bench`, `caseledger-loadgen`, `caseledger-demo`, tools/) each have one.
//
// To add a command to caseledger: write `int RunX(const Args&)` (commands.h), add one
// CommandSpec to its table in command_table.cc, and document it in docs/cli.md.
// help_cli_test runs `--help` and an unknown flag on every entry of every table.
#pragma once

#include "app/commands.h"

#include <set>
#include <string>
#include <vector>

namespace caseledger::app {

struct FlagSpec {
  const char* name;   // without dashes: "data"
  const char* value;  // placeholder of its value ("DIR"); nullptr for a switch
  const char* help;   // one sentence: what it does, its default
};

struct CommandSpec {
  // "serve"; runs with the arguments after it. Empty in a program of one command
  // (caseledger-loadgen), which runs with all the arguments.
  const char* name;
  const char* summary;               // one line for the command list
  std::vector<const char*> usage;    // synopsis lines after "caseledger <name> "
  std::vector<FlagSpec> flags;
  const char* description;           // paragraphs separated by "\n\n"; may be empty
  int (*run)(const Args&);
};

// Flags the product and the tools share, worded once.
inline constexpr FlagSpec kReferenceFlag{"reference", "DIR",
                                         "reference data (ISTAT, DPC, ASL map); default $CASELEDGER_HOME/ops/reference, "
                                         "else the source tree's"};
inline constexpr FlagSpec kFormatTableFlag{"format", "table|tsv", "tsv: one tab-separated line per figure, for ops/bench"};

// An executable: its name, what it is (the man page's NAME and DESCRIPTION) and its
// commands, in the order of the overview.
struct Program {
  const char* name;         // "caseledger"
  const char* summary;      // one line: "event-sourced COVID-19 case registry"
  const char* description;  // a paragraph
  const char* files;        // the man page's FILES section, troff; may be empty
  std::vector<CommandSpec> commands;
};

// The product's table (command_table.cc).
const Program& CaseledgerProgram();

// main() of a program: dispatches argv[1..] (`args`) through its table. Returns the exit
// code: the command's, 0 after a help request, 2 on an unknown command or flag.
int RunProgram(const Program& program, const std::vector<std::string>& args);
inline int RunProgram(const Program& program, int argc, char** argv) {
  return RunProgram(program, std::vector<std::string>(argv + 1, argv + argc));
}

// The entry for `args`' first word (a program of one command: that command, whatever the
// arguments); nullptr for an unknown command.
const CommandSpec* FindCommand(const Program& program, const std::vector<std::string>& args);

std::set<std::string> ValueFlags(const CommandSpec& command);
std::set<std::string> SwitchFlags(const CommandSpec& command);

std::string Overview(const Program& program);                               // `<program> --help`
std::string HelpText(const Program& program, const CommandSpec& command);   // `<program> <command> --help`
std::string ManPage(const Program& program);                                // troff, section 1
std::string BashCompletion(const Program& program);                         // a bash completion script

}  // namespace caseledger::app
