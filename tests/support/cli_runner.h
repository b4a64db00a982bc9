// Runs a built executable (caseledger, the tools) as a child process, as a shell would, and
// collects its exit code, stdout and stderr: the tests of the command-line contract (exit 0
// ok, 1 failure, 2 usage error with one line on stderr) share this one runner.
#pragma once

#include "tests/support/build_paths.h"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace caseledger::testing {

struct CliOutcome {
  int code = -1;  // the exit code; -1 when the child did not exit normally
  std::string out, err;
};

// Runs `command` through /bin/sh; its stdout (`err` stays empty: add 2>&1 to the command to
// have stderr there too) and its exit code.
inline CliOutcome RunShell(const std::string& command) {
  CliOutcome r;
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// Runs `executable args` through /bin/sh (`args` is shell words). stderr goes through a file
// in `scratch_dir` named for this process (ctest runs tests as parallel processes), removed
// afterwards.
inline CliOutcome RunCli(const std::string& executable, const std::string& args, const std::string& scratch_dir) {
  const std::string err_file = scratch_dir + "/cli_stderr." + std::to_string(::getpid()) + ".txt";
  CliOutcome r = RunShell(executable + " " + args + " 2>" + err_file);
  std::ifstream in(err_file);
  std::stringstream s;
  s << in.rdbuf();
  r.err = s.str();
  std::remove(err_file.c_str());
  return r;
}

// The build's executables: "caseledger" (app/) or a tool ("caseledger-bench", tools/).
inline std::string BuiltExecutable(const std::string& name) {
  return caseledger::TestBinaryDir() + (name == "caseledger" ? "/app/" : "/tools/") + name;
}

}  // namespace caseledger::testing
