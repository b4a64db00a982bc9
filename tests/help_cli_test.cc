// `--help` on every command (docs/cli.md): exit 0, the command's own usage on stdout naming
// each of its flags; an unknown flag is still a usage error (exit 2, one line on stderr);
// the man page and the bash completion come from the same table. The flag lists below are
// the commands' own parsers' (cmd_*.cc; serve's from serve_config.h, so a new serve flag
// must appear in its --help): a flag a command accepts but --help omits fails.
#include "app/serve_config.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Outcome {
  int code = -1;
  std::string out, err;
};

Outcome Caseledger(const std::string& args) {
  // One file per process: ctest runs these tests as parallel processes.
  const std::string err_file = ::testing::TempDir() + "/help_cli_stderr." + std::to_string(getpid()) + ".txt";
  const std::string command = std::string(CASELEDGER_BINARY_DIR "/app/caseledger ") + args + " 2>" + err_file;
  Outcome r;
  FILE* p = popen(command.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(err_file);
  std::stringstream s;
  s << in.rdbuf();
  r.err = s.str();
  std::remove(err_file.c_str());
  return r;
}

struct Expected {
  std::string command;
  std::vector<std::string> flags;
};

std::vector<std::string> ServeFlags() {
  std::vector<std::string> flags(std::begin(caseledger::app::kServeFlags), std::end(caseledger::app::kServeFlags));
  flags.insert(flags.end(), std::begin(caseledger::app::kServeSwitches), std::end(caseledger::app::kServeSwitches));
  for (const char* nats : {"nats", "nats-replicas", "replica-of", "replica-name", "primary"}) flags.push_back(nats);
  return flags;
}

const std::vector<Expected>& Commands() {
  static const std::vector<Expected> commands = {
      {"serve", ServeFlags()},
      {"verify", {"data", "reference", "chain-only", "backup"}},
      {"backup", {"data", "to"}},
      {"restore", {"from", "data", "to-position", "to-time", "reference"}},
      {"bench append", {"data", "seconds", "concurrency", "runs", "format"}},
      {"bench rebuild",
       {"data", "scale", "from", "to", "runs", "store", "format", "batch", "until", "person-cache", "compare",
        "sequential"}},
      {"bench lag", {"data", "rate", "seconds", "warmup", "appenders", "format"}},
      {"bench relay", {"nats", "replicas", "scale", "from", "to", "rate", "seconds", "format", "data"}},
      {"token", {"key", "sub", "ttl", "iss", "aud"}},
      {"grant", {"data", "sub", "role", "scope", "revoke", "reference"}},
      {"replay", {"data", "rules", "effective-from", "views", "until", "on", "format", "reference", "adopt"}},
      {"history", {"data", "as-of", "format", "master-key"}},
      {"loadgen",
       {"target", "token", "mix", "connections", "rate", "seconds", "warmup", "seed", "format", "threads",
        "people", "reference", "sink", "scale", "max", "peak", "data", "from", "to", "appenders", "resume"}},
      {"import", {"data", "from", "threads", "max-errors", "ids", "master-key", "reference", "format"}},
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
      Outcome r = Caseledger(c.command + " " + help);
      EXPECT_EQ(r.code, 0) << c.command << " " << help << ": " << r.err;
      EXPECT_EQ(r.out.rfind("usage: caseledger " + c.command + " ", 0), 0u) << r.out;
      EXPECT_EQ(r.err, "") << c.command;
      for (const std::string& flag : c.flags) EXPECT_TRUE(NamesFlag(r.out, flag)) << c.command << ": --" << flag;
    }
  }
  // --help wins wherever it stands, also after other flags.
  Outcome late = Caseledger("token --key /nonexistent --help");
  EXPECT_EQ(late.code, 0) << late.err;
  EXPECT_NE(late.out.find("--ttl SECONDS"), std::string::npos) << late.out;
}

TEST(HelpCliTest, TheOverviewListsEveryCommand) {
  Outcome r = Caseledger("--help");
  EXPECT_EQ(r.code, 0);
  for (const Expected& c : Commands()) EXPECT_NE(r.out.find("  " + c.command + " "), std::string::npos) << c.command;
  Outcome group = Caseledger("bench --help");
  EXPECT_EQ(group.code, 0);
  for (const char* b : {"bench append", "bench rebuild", "bench lag", "bench relay"})
    EXPECT_NE(group.out.find("usage: caseledger " + std::string(b)), std::string::npos) << b;
  Outcome none = Caseledger("");
  EXPECT_EQ(none.code, 2);
  Outcome version = Caseledger("--version");
  EXPECT_EQ(version.code, 0);
  EXPECT_EQ(version.out.rfind("caseledger ", 0), 0u) << version.out;
}

TEST(HelpCliTest, UnknownFlagsAndCommandsAreUsageErrors) {
  for (const Expected& c : Commands()) {
    Outcome r = Caseledger(c.command + " --no-such-flag 1");
    EXPECT_EQ(r.code, 2) << c.command << ": " << r.out << r.err;
    EXPECT_NE(r.err.find("unknown flag --no-such-flag"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  EXPECT_EQ(Caseledger("no-such-command").code, 2);
  EXPECT_EQ(Caseledger("bench no-such-bench").code, 2);
  EXPECT_EQ(Caseledger("token --help=yes").code, 2);  // not a help request: an unknown flag
}

TEST(HelpCliTest, ManPageAndCompletionComeFromTheSameTable) {
  Outcome man = Caseledger("--help-man");
  ASSERT_EQ(man.code, 0);
  EXPECT_EQ(man.out.rfind(".TH CASELEDGER 1 ", 0), 0u) << man.out.substr(0, 80);
  for (const Expected& c : Commands()) {
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
  // Complete "caseledger serve --da" and "caseledger bench re" as bash would.
  const std::string probe = "bash -c 'source " + script +
                            " && COMP_WORDS=(caseledger serve --da) COMP_CWORD=2 && _caseledger && echo \"${COMPREPLY[*]}\""
                            " && COMP_WORDS=(caseledger bench re) COMP_CWORD=2 && _caseledger && echo \"${COMPREPLY[*]}\""
                            " && COMP_WORDS=(caseledger bench rebuild --per) COMP_CWORD=3 && _caseledger && echo \"${COMPREPLY[*]}\"'";
  FILE* p = popen(probe.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  std::array<char, 1024> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  EXPECT_EQ(pclose(p), 0);
  EXPECT_EQ(out, "--data\nrebuild relay\n--person-cache\n");
}

}  // namespace
