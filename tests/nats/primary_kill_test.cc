// The primary (a real `caseledger serve --nats` process) killed with SIGKILL while
// commands flow, then restarted: the relay resumes from the stream's end and the stream
// holds every position once, in order, without a gap (docs/nats.md).
#include "api/jwt.h"
#include "tests/nats/nats_process.h"
#include "tests/nats/nats_test_support.h"

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>

namespace caseledger::testing {
namespace {

using namespace std::chrono_literals;

class ServeProcess {
 public:
  ServeProcess(std::string data, uint16_t port, std::string nats) : data_(std::move(data)), port_(port), nats_(std::move(nats)) {}
  ~ServeProcess() { Kill(); }
  void Start() {
    const std::string binary = CASELEDGER_BINARY_DIR "/app/caseledger";
    const std::string listen = "127.0.0.1:" + std::to_string(port_);
    const std::string log = data_ + ".log";
    pid_ = fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      freopen(log.c_str(), "a", stdout);
      freopen(log.c_str(), "a", stderr);
      execl(binary.c_str(), binary.c_str(), "serve", "--data", data_.c_str(), "--listen", listen.c_str(), "--nats",
            nats_.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    ASSERT_TRUE(WaitUntil([&] {
      try {
        HttpClient probe(port_);
        return probe.Send("GET", "/healthz").status == 200;
      } catch (const std::exception&) {
        return false;
      }
    }, 20s)) << "caseledger serve did not start; see " << log;
  }
  void Kill(int sig = SIGKILL) {
    if (pid_ <= 0) return;
    kill(pid_, sig);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  // A gauge from /metrics.
  uint64_t Gauge(const std::string& name) {
    HttpClient http(port_);
    std::istringstream in(http.Send("GET", "/metrics").body);
    std::string line;
    while (std::getline(in, line)) {
      if (line.starts_with(name + " ")) return std::stoull(line.substr(name.size() + 1));
    }
    return UINT64_MAX;
  }

 private:
  std::string data_;
  uint16_t port_;
  std::string nats_;
  pid_t pid_ = -1;
};

std::string TokenFor(const std::string& key_path) {
  std::string error;
  auto key = api::LoadKeyFile(key_path, &error);
  if (!key) throw std::runtime_error(error);
  api::TokenClaims claims;
  claims.subject = "tester";
  claims.issued_at = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  claims.expires_at = claims.issued_at + 3600;
  return api::SignToken(claims, *key);
}

TEST(NatsRelayTest, PrimaryKilledMidRunResumesWithoutAGap) {
  TempDir dir;
  auto nats = SingleNode(dir.Sub("nats"));
  nats->Start();
  // The workload's subject: operator in the ASLs it registers people in (bootstrap grants,
  // recorded offline before the server opens the store).
  std::filesystem::create_directories(dir.Sub("primary"));
  for (const std::string& asl : CaseWorkload::Asls()) {
    const std::string cmd = std::string(CASELEDGER_BINARY_DIR "/app/caseledger grant --data ") + dir.Sub("primary") +
                            " --sub tester --role operator --scope " + asl + " >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  const uint16_t port = FreePort();
  ServeProcess serve(dir.Sub("primary"), port, nats->url());
  serve.Start();
  const std::string token = TokenFor(dir.Sub("primary") + "/auth.key");

  CaseWorkload first(port, token, 4);
  first.Start(1000);
  ASSERT_TRUE(WaitUntil([&] { return first.last_position() >= 300; }, 30s)) << first.first_failure();
  serve.Kill(SIGKILL);
  first.Stop();  // its commands after the kill fail: that is expected

  serve.Start();
  const uint64_t reopened = serve.Gauge("caseledger_committed_position");
  EXPECT_GE(reopened, first.last_position()) << "every acknowledged command is in the log";
  CaseWorkload second(port, token, 2, 5000);
  second.Run(20);
  EXPECT_EQ(second.failures(), 0) << second.first_failure();

  uint64_t last = 0;
  ASSERT_TRUE(WaitUntil([&] {
    last = serve.Gauge("caseledger_committed_position");
    return serve.Gauge("caseledger_relay_acked_position") == last;
  }, 30s)) << "relay acknowledged " << serve.Gauge("caseledger_relay_acked_position") << " of " << last;
  EXPECT_EQ(last, reopened + 20 * 6);
  serve.Kill(SIGTERM);
  ExpectEveryPositionOnceInOrder(ReadStream({nats->url()}, "CASELEDGER"), last);
}

}  // namespace
}  // namespace caseledger::testing
