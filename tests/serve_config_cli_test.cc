// `caseledger serve --config FILE` as an operator runs it (docs/operations.md): a bad file is a
// usage error (exit 2, one line naming the file and the key); a good one starts the server
// on its settings, and SIGTERM (what systemd sends) stops it cleanly with exit 0.
#include "tests/support/temp_dir.h"
#include "tests/support/build_paths.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>
#include <vector>

namespace caseledger::testing {
namespace {

const std::string kBinary = caseledger::TestBinaryDir() + "/app/caseledger";

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Starts `caseledger serve args...` with stdout and stderr in files; returns its pid.
pid_t StartServe(const std::vector<std::string>& args, const std::string& out, const std::string& err) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  if (!freopen(out.c_str(), "w", stdout) || !freopen(err.c_str(), "w", stderr)) _exit(126);
  std::vector<char*> argv{const_cast<char*>(kBinary.c_str()), const_cast<char*>("serve")};
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  execv(kBinary.c_str(), argv.data());
  _exit(127);
}

// The exit code, or -1 when the process did not end within `limit` (it is then killed).
int WaitExit(pid_t pid, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(ServeConfigCliTest, ABadConfigIsAUsageErrorNamingFileAndKey) {
  TempDir dir;
  const std::string config = dir.Sub("caseledger.json");
  std::ofstream(config) << R"({"data": "data", "auth": {"key_fle": "auth.key"}})";
  pid_t pid = StartServe({"--config", config}, dir.Sub("out"), dir.Sub("err"));
  EXPECT_EQ(WaitExit(pid, std::chrono::seconds(30)), 2);
  EXPECT_EQ(Slurp(dir.Sub("err")), "caseledger: " + config + ": auth.key_fle: unknown key\n");
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("data")));  // nothing was opened
}

TEST(ServeConfigCliTest, ServesOnTheFilesSettingsAndStopsCleanlyOnSigterm) {
  TempDir dir;
  std::filesystem::create_directories(dir.Sub("etc"));
  const std::string config = dir.Sub("etc/caseledger.json");
  // "data" is relative: it resolves against etc/, not the working directory.
  std::ofstream(config) << R"({"data": "../var", "listen": "127.0.0.1:0", "auth": {"issuer": "regione"},
                              "log": {"format": "json"}})";
  pid_t pid = StartServe({"--config", config}, dir.Sub("out"), dir.Sub("err"));
  const std::regex serving(R"(caseledger serving http://127\.0\.0\.1:([0-9]+)  \(store (.*)/store,)");
  std::smatch m;
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!std::regex_search(out = Slurp(dir.Sub("out")), m, serving) &&
         std::chrono::steady_clock::now() < deadline && waitpid(pid, nullptr, WNOHANG) == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (m.empty()) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    FAIL() << "no 'caseledger serving' line: " << out << Slurp(dir.Sub("err"));
  }
  EXPECT_NE(std::stoi(m[1].str()), 0);
  EXPECT_EQ(std::filesystem::canonical(m[2].str()), std::filesystem::canonical(dir.Sub("var")));
  EXPECT_TRUE(std::filesystem::exists(dir.Sub("var/auth.key")));
  EXPECT_NE(out.find(" token --key " + m[2].str() + "/auth.key --iss 'regione' --sub SUBJECT"), std::string::npos)
      << out;
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  EXPECT_EQ(WaitExit(pid, std::chrono::seconds(60)), 0) << Slurp(dir.Sub("err"));
  EXPECT_NE(Slurp(dir.Sub("out")).find("caseledger stopped at position "), std::string::npos);
  // log.format json: every line on stderr is one JSON object of a module's logger.
  std::istringstream err(Slurp(dir.Sub("err")));
  size_t lines = 0;
  for (std::string line; std::getline(err, line); ++lines) {
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(line, ec);
    ASSERT_FALSE(ec) << line;
    EXPECT_TRUE(v.is_object() && v.as_object().contains("logger") && v.as_object().contains("message")) << line;
  }
  EXPECT_GT(lines, 0u);
}

// A SIGTERM right after the banner stops the server cleanly: the banner is printed only
// once the signals are registered. They were registered by a handler queued on the
// server's thread after the banner, and under CPU load a SIGTERM in between took the default
// action (11 of 30 starts ended by the signal with 6 busy loops on this 2-core machine).
TEST(ServeConfigCliTest, ASigtermRightAfterTheBannerStopsCleanlyUnderLoad) {
  std::atomic<bool> busy{true};
  std::vector<std::thread> spinners;  // the load: the server's threads wait for a core
  for (int i = 0; i < 4; ++i) {
    spinners.emplace_back([&busy] {
      while (busy.load(std::memory_order_relaxed)) {
      }
    });
  }
  int clean = 0;
  constexpr int kStarts = 10;
  for (int i = 0; i < kStarts; ++i) {
    TempDir dir;
    pid_t pid = StartServe({"--data", dir.Sub("var"), "--listen", "127.0.0.1:0"}, dir.Sub("out"), dir.Sub("err"));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (Slurp(dir.Sub("out")).find("caseledger serving") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline && waitpid(pid, nullptr, WNOHANG) == 0) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    kill(pid, SIGTERM);
    const int code = WaitExit(pid, std::chrono::seconds(60));
    if (code == 0) ++clean;
    EXPECT_EQ(code, 0) << "start " << i << ": " << Slurp(dir.Sub("err"));
  }
  busy = false;
  for (auto& t : spinners) t.join();
  EXPECT_EQ(clean, kStarts);
}

}  // namespace
}  // namespace caseledger::testing
