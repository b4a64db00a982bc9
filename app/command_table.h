// Every subcommand of the caseledger executable, declared once: its name, what it does, its
// usage lines, each flag with its value and meaning, and the function that runs it. main()
// dispatches through this table, answers `--help`/`-h` on any command from it (stdout,
// exit 0), and refuses a flag the table does not list (stderr, exit 2) before the command
// runs; the man page (`caseledger --help-man`) and the bash completion
// (`caseledger --help-completion`) are generated from the same entries.
//
// To add a command: write `int RunX(const Args&)` (commands.h), add one CommandSpec to
// Commands() in command_table.cc, and document it in docs/cli.md. cli_test runs `--help`
// and an unknown flag on every entry.
#pragma once

#include "app/commands.h"

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace caseledger::app {

struct FlagSpec {
  const char* name;   // without dashes: "data"
  const char* value;  // placeholder of its value ("DIR"); nullptr for a switch
  const char* help;   // one sentence: what it does, its default
};

struct CommandSpec {
  // "serve"; a group's members are "bench append", "bench rebuild", ... and run with the
  // arguments after the group's name (so RunBench sees "rebuild ...").
  const char* name;
  const char* summary;               // one line for the command list
  std::vector<const char*> usage;    // synopsis lines after "caseledger <name> "
  std::vector<FlagSpec> flags;
  const char* description;           // paragraphs separated by "\n\n"; may be empty
  int (*run)(const Args&);
};

// Every command, in the order of the overview.
const std::vector<CommandSpec>& Commands();

// The entry for argv[1..]: the longest name matching the first one or two words; nullptr
// for an unknown command. `words` is set to 1 or 2.
const CommandSpec* FindCommand(const std::vector<std::string>& args, size_t* words);
// The entries of a group ("bench" -> "bench append", ...); empty when `group` is none.
std::vector<const CommandSpec*> GroupMembers(std::string_view group);

std::set<std::string> ValueFlags(const CommandSpec& command);
std::set<std::string> SwitchFlags(const CommandSpec& command);

std::string Overview();                              // `caseledger --help`
std::string HelpText(const CommandSpec& command);    // `caseledger <command> --help`
std::string ManPage();                               // troff, section 1
std::string BashCompletion();                        // a bash completion script

}  // namespace caseledger::app
