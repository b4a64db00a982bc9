// `--help` on every command (docs/cli.md): exit 0, the command's own usage on stdout naming
// each of its flags; an unknown flag is still a usage error (exit 2, one line on stderr);
// the man page and the bash completion come from the same table. The flag lists below are
// the commands' own parsers' (cmd_*.cc; serve's from serve_config.h, so a new serve flag
// must appear in its --help): a flag a command accepts but --help omits fails.
#include "app/serve_config.h"
#include "tests/support/cli_runner.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace {

using caseledger::testing::BuiltExecutable;
using Outcome = caseledger::testing::CliOutcome;

Outcome RunTool(const std::string& program, const std::string& args) {
  return caseledger::testing::RunCli(BuiltExecutable(program), args, ::testing::TempDir());
}

Outcome Caseledger(const std::string& args) { return RunTool("caseledger", args); }

struct Expected {
  std::string program;  // "caseledger" or a tool
  std::string command;  // empty: the tool's one command
  std::vector<std::string> flags;
  std::string Invocation() const { return command.empty() ? program : program + " " + command; }
};

std::vector<std::string> ServeFlags() {
  std::vector<std::string> flags(std::begin(caseledger::app::kServeFlags), std::end(caseledger::app::kServeFlags));
  flags.insert(flags.end(), std::begin(caseledger::app::kServeSwitches), std::end(caseledger::app::kServeSwitches));
  for (const char* nats : {"nats", "nats-replicas", "replica-of", "replica-name", "primary", "standby-of"}) flags.push_back(nats);
  return flags;
}

// The product's commands first, then the tools'.
const std::vector<Expected>& Commands() {
  static const std::vector<Expected> commands = {
      {"caseledger", "serve", ServeFlags()},
      {"caseledger", "verify", {"data", "reference", "chain-only", "backup"}},
      {"caseledger", "backup", {"data", "to"}},
      {"caseledger", "restore", {"from", "data", "to-position", "to-time", "reference"}},
      {"caseledger", "promote", {"data", "master-key"}},
      {"caseledger", "token", {"key", "sub", "ttl", "iss", "aud"}},
      {"caseledger", "grant", {"data", "sub", "role", "scope", "revoke", "reference"}},
      {"caseledger", "replay", {"data", "rules", "effective-from", "views", "until", "on", "format", "reference", "adopt"}},
      {"caseledger", "history", {"data", "as-of", "format", "master-key"}},
      {"caseledger", "import", {"data", "from", "threads", "max-errors", "ids", "master-key", "reference", "format"}},
      {"caseledger-bench", "append", {"data", "seconds", "concurrency", "runs", "format"}},
      {"caseledger-bench", "rebuild",
       {"data", "scale", "from", "to", "runs", "store", "format", "batch", "until", "person-cache", "compare",
        "sequential", "partitions", "threads"}},
      {"caseledger-bench", "lag", {"data", "rate", "seconds", "warmup", "appenders", "format"}},
      {"caseledger-bench", "relay", {"nats", "replicas", "scale", "from", "to", "rate", "seconds", "format", "data"}},
      {"caseledger-loadgen", "",
       {"target", "token", "mix", "connections", "rate", "seconds", "warmup", "seed", "format", "threads",
        "people", "reference", "sink", "scale", "max", "peak", "data", "from", "to", "appenders", "resume"}},
      {"caseledger-demo", "", {"data", "url", "reference", "rules"}},
  };
  return commands;
}

bool NamesFlag(const std::string& help, const std::string& flag) {
  // "--data " or "--data\n": a whole flag, not the prefix of a longer one.
  for (size_t at = help.find("--" + flag); at != std::string::npos; at = help.find("--" + flag, at + 1)) {
    const size_t end = at + 2 + flag.size();
    if (end == help.size() || help[end] == ' ' || help[end] == '\n' || help[end] == ']' || help[end] == '=')
      return true;
  }
  return false;
}

TEST(HelpCliTest, EveryCommandAnswersHelpWithItsOwnUsageAndFlags) {
  for (const Expected& c : Commands()) {
    for (const char* help : {"--help", "-h"}) {
      Outcome r = RunTool(c.program, c.command + " " + help);
      EXPECT_EQ(r.code, 0) << c.Invocation() << " " << help << ": " << r.err;
      EXPECT_EQ(r.out.rfind("usage: " + c.Invocation() + " ", 0), 0u) << r.out;
      EXPECT_EQ(r.err, "") << c.Invocation();
      for (const std::string& flag : c.flags) EXPECT_TRUE(NamesFlag(r.out, flag)) << c.Invocation() << ": --" << flag;
    }
  }
  // --help wins wherever it stands, also after other flags.
  Outcome late = Caseledger("token --key /nonexistent --help");
  EXPECT_EQ(late.code, 0) << late.err;
  EXPECT_NE(late.out.find("--ttl SECONDS"), std::string::npos) << late.out;
}

TEST(HelpCliTest, TheOverviewListsEveryCommand) {
  for (const char* program : {"caseledger", "caseledger-bench"}) {
    Outcome r = RunTool(program, "--help");
    EXPECT_EQ(r.code, 0) << program;
    for (const Expected& c : Commands()) {
      if (c.program != program) continue;
      EXPECT_NE(r.out.find("  " + c.command + " "), std::string::npos) << c.Invocation();
    }
    EXPECT_EQ(RunTool(program, "").code, 2) << program;
  }
  for (const char* program : {"caseledger", "caseledger-bench", "caseledger-loadgen", "caseledger-demo"}) {
    Outcome version = RunTool(program, "--version");
    EXPECT_EQ(version.code, 0) << program;
    EXPECT_EQ(version.out.rfind(std::string(program) + " ", 0), 0u) << version.out;
  }
}

// The product carries what an operator runs; benchmarks, load and demo data are tools apart.
TEST(HelpCliTest, TheProductHasNoBenchmarkLoadOrDemoCommand) {
  for (const char* gone : {"bench", "loadgen"}) {
    Outcome r = Caseledger(std::string(gone) + " --help");
    EXPECT_EQ(r.code, 2) << gone;
    EXPECT_NE(r.err.find("unknown command '" + std::string(gone) + "'"), std::string::npos) << r.err;
  }
  Outcome demo = Caseledger("serve --demo");
  EXPECT_EQ(demo.code, 2);
  EXPECT_NE(demo.err.find("unknown flag --demo"), std::string::npos) << demo.err;
}

TEST(HelpCliTest, UnknownFlagsAndCommandsAreUsageErrors) {
  for (const Expected& c : Commands()) {
    Outcome r = RunTool(c.program, c.command + " --no-such-flag 1");
    EXPECT_EQ(r.code, 2) << c.Invocation() << ": " << r.out << r.err;
    EXPECT_NE(r.err.find("unknown flag --no-such-flag"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  EXPECT_EQ(Caseledger("no-such-command").code, 2);
  EXPECT_EQ(RunTool("caseledger-bench", "no-such-bench").code, 2);
  EXPECT_EQ(Caseledger("token --help=yes").code, 2);  // not a help request: an unknown flag
}

TEST(HelpCliTest, ManPageAndCompletionComeFromTheSameTable) {
  Outcome man = Caseledger("--help-man");
  ASSERT_EQ(man.code, 0);
  EXPECT_EQ(man.out.rfind(".TH CASELEDGER 1 ", 0), 0u) << man.out.substr(0, 80);
  for (const Expected& c : Commands()) {
    if (c.program != "caseledger") continue;  // the package ships the product's page only
    EXPECT_NE(man.out.find(".SS \"" + c.command + "\""), std::string::npos) << c.command;
    for (const std::string& flag : c.flags) {
      std::string escaped;
      for (char ch : flag) escaped += ch == '-' ? std::string("\\-") : std::string(1, ch);
      EXPECT_NE(man.out.find("\\fB\\-\\-" + escaped + "\\fR"), std::string::npos) << c.command << " --" << flag;
    }
  }

  Outcome completion = Caseledger("--help-completion");
  ASSERT_EQ(completion.code, 0);
  const std::string script = ::testing::TempDir() + "/caseledger.bash-completion." + std::to_string(getpid());
  std::ofstream(script) << completion.out;
  // Complete "caseledger serve --da", "caseledger re" and "caseledger replay --ad" as bash would.
  const std::string probe = "bash -c 'source " + script +
                            " && COMP_WORDS=(caseledger serve --da) COMP_CWORD=2 && _caseledger && echo \"${COMPREPLY[*]}\""
                            " && COMP_WORDS=(caseledger re) COMP_CWORD=1 && _caseledger && echo \"${COMPREPLY[*]}\""
                            " && COMP_WORDS=(caseledger replay --ad) COMP_CWORD=2 && _caseledger && echo \"${COMPREPLY[*]}\"'";
  FILE* p = popen(probe.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  std::array<char, 1024> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  EXPECT_EQ(pclose(p), 0);
  EXPECT_EQ(out, "--data\nrestore replay\n--adopt\n");
}

}  // namespace
