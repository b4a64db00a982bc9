// Subcommands of the caseledger executable. Each takes the arguments after its name and
// returns the process exit code: 0 ok, 1 failure, 2 usage error.
#pragma once

#include <string>
#include <vector>

namespace caseledger::app {

using Args = std::vector<std::string>;

int RunServe(const Args& args);
int RunVerify(const Args& args);
int RunGrant(const Args& args);
int RunToken(const Args& args);
int RunReplay(const Args& args);
int RunHistory(const Args& args);
int RunBackup(const Args& args);
int RunRestore(const Args& args);
int RunPromote(const Args& args);
int RunImport(const Args& args);

}  // namespace caseledger::app
