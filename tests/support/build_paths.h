// Where this build's sources and binaries are, for the tests that read the shipped files
// (ops/reference, ops/rules, tests/data) or run the built executables. The paths are
// compiled into build_paths.cc alone, not put on every test's compile line, so that two
// checkouts of the repository (git worktrees) share the compiler's cache (ccache) for
// everything else.
#pragma once

#include <string>

namespace caseledger {

// PROJECT_SOURCE_DIR and PROJECT_BINARY_DIR of the build, without a trailing slash.
const std::string& TestSourceDir();
const std::string& TestBinaryDir();

}  // namespace caseledger
