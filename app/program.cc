// RunProgram: the main() of caseledger and of the tools, over their command tables.
#include "app/command_table.h"
#include "app/flags.h"

#include <iostream>
#include <string>
#include <vector>

#ifndef CASELEDGER_VERSION
#define CASELEDGER_VERSION "0.0.0"
#endif

namespace caseledger::app {
namespace {

bool AsksForHelp(const std::vector<std::string>& args) {
  for (const std::string& a : args) {
    if (a == "--help" || a == "-h") return true;
  }
  return false;
}

}  // namespace

int RunProgram(const Program& program, const std::vector<std::string>& all) {
  const std::string name = program.name;
  const bool single = program.commands.size() == 1 && !*program.commands.front().name;
  const std::string first = all.empty() ? "" : all[0];
  if (first == "--version") {
    std::cout << name << " " CASELEDGER_VERSION "\n";
    return 0;
  }
  if (first == "--help-man") {
    std::cout << ManPage(program);
    return 0;
  }
  if (first == "--help-completion") {
    std::cout << BashCompletion(program);
    return 0;
  }
  if (!single) {
    if (all.empty()) {
      std::cerr << Overview(program);
      return 2;
    }
    if (first == "--help" || first == "-h" || first == "help") {
      std::cout << Overview(program);
      return 0;
    }
  }
  const CommandSpec* command = FindCommand(program, all);
  if (!command) return UsageError("unknown command '" + first + "'\n" + Overview(program));
  const size_t words = *command->name ? 1 : 0;
  const Args rest(all.begin() + static_cast<long>(words), all.end());
  if (AsksForHelp(rest)) {
    std::cout << HelpText(program, *command);
    return 0;
  }
  // The table is the one list of a command's flags: anything else is refused here, with
  // the command's usage, before the command runs.
  Flags declared(rest, ValueFlags(*command), SwitchFlags(*command));
  const std::string see = name + (words ? " " + std::string(command->name) : "") + " --help";
  if (!declared.ok()) return UsageError(declared.error() + " (see " + see + ")");
  try {
    return command->run(rest);
  } catch (const std::exception& e) {
    return Failure(std::string("internal error: ") + e.what());
  }
}

}  // namespace caseledger::app
