// caseledger: one executable, one subcommand per task (docs/cli.md). The commands, their
// usage and flags are the table in command_table.cc; this only dispatches.
#include "app/command_table.h"
#include "app/flags.h"

#include <iostream>
#include <string>
#include <vector>

#ifndef CASELEDGER_VERSION
#define CASELEDGER_VERSION "0.0.0"
#endif

namespace {

bool AsksForHelp(const std::vector<std::string>& args) {
  for (const std::string& a : args) {
    if (a == "--help" || a == "-h") return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace caseledger::app;
  const std::vector<std::string> all(argv + 1, argv + argc);
  if (all.empty()) {
    std::cerr << Overview();
    return 2;
  }
  const std::string& first = all[0];
  if (first == "--help" || first == "-h" || first == "help") {
    std::cout << Overview();
    return 0;
  }
  if (first == "--version") {
    std::cout << "caseledger " CASELEDGER_VERSION "\n";
    return 0;
  }
  if (first == "--help-man") {
    std::cout << ManPage();
    return 0;
  }
  if (first == "--help-completion") {
    std::cout << BashCompletion();
    return 0;
  }

  size_t words = 0;
  const CommandSpec* command = FindCommand(all, &words);
  if (!command) {
    auto members = GroupMembers(first);
    if (members.empty()) return UsageError("unknown command '" + first + "'\n" + Overview());
    // "bench" without one of its members: its members' help on --help, else a usage error.
    std::string help;
    for (const CommandSpec* m : members) help += HelpText(*m) + "\n";
    if (AsksForHelp(all)) {
      std::cout << help;
      return 0;
    }
    return UsageError(first + " needs a benchmark name\n" + help);
  }
  const Args rest(all.begin() + static_cast<long>(words), all.end());
  if (AsksForHelp(rest)) {
    std::cout << HelpText(*command);
    return 0;
  }
  // The table is the one list of a command's flags: anything else is refused here, with
  // the command's usage, before the command runs.
  Flags declared(rest, ValueFlags(*command), SwitchFlags(*command));
  if (!declared.ok()) return UsageError(declared.error() + " (see caseledger " + command->name + " --help)");
  try {
    return command->run(Args(all.begin() + 1, all.end()));
  } catch (const std::exception& e) {
    return Failure(std::string("internal error: ") + e.what());
  }
}
