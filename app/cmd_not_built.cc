// Subcommands whose issues have not landed yet: they say so and exit 2 (usage), so that
// scripts can tell "not available" from "failed".
#include "app/commands.h"
#include "app/flags.h"

namespace caseledger::app {
namespace {

[[maybe_unused]] int NotBuilt(const char* name, const char* issue) {
  return UsageError(std::string(name) + " is not built yet (" + issue + ")");
}

}  // namespace

int RunGrant(const Args&) { return NotBuilt("grant", "security issue #6"); }

}  // namespace caseledger::app
