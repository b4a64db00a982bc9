// The primary (a real `caseledger serve --nats` process) killed with SIGKILL while
// commands flow, then restarted: the relay resumes from the stream's end and the stream
// holds every position once, in order, without a gap (docs/nats.md).
#include "api/jwt.h"
#include "tests/nats/nats_process.h"
#include "tests/nats/nats_test_support.h"
#include "tests/support/build_paths.h"

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

TEST(NatsRelayTest, PrimaryKilledMidRunResumesWithoutAGap) {
  TempDir dir;
  auto nats = SingleNode(dir.Sub("nats"));
  nats->Start();
  // The workload's subject: operator in the ASLs it registers people in (bootstrap grants,
  // recorded offline before the server opens the store).
  std::filesystem::create_directories(dir.Sub("primary"));
  for (const std::string& asl : CaseWorkload::Asls()) {
    const std::string cmd = std::string(caseledger::TestBinaryDir() + "/app/caseledger grant --data ") + dir.Sub("primary") +
                            " --sub tester --role operator --scope " + asl + " >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  const uint16_t port = FreePort();
  ServeProcess serve(dir.Sub("primary"), port, {"--nats", nats->url()});
  serve.Start();
  serve.WaitReady();
  const std::string token = TokenFor(dir.Sub("primary") + "/auth.key");

  CaseWorkload first(port, token, 4);
  first.Start(1000);
  ASSERT_TRUE(WaitUntil([&] { return first.last_position() >= 300; }, 30s)) << first.first_failure();
  serve.Kill(SIGKILL);
  first.Stop();  // its commands after the kill fail: that is expected

  serve.Start();
  serve.WaitReady();  // commands before it are 503 "starting" while the views catch up
  const uint64_t reopened = serve.Position("caseledger_committed_position");
  EXPECT_GE(reopened, first.last_position()) << "every acknowledged command is in the log";
  CaseWorkload second(port, token, 2, 5000);
  second.Run(20);
  EXPECT_EQ(second.failures(), 0) << second.first_failure();

  uint64_t last = 0;
  ASSERT_TRUE(WaitUntil([&] {
    last = serve.Position("caseledger_committed_position");
    return serve.Position("caseledger_relay_acked_position") == last;
  }, 30s)) << "relay acknowledged " << serve.Position("caseledger_relay_acked_position") << " of " << last;
  EXPECT_EQ(last, reopened + 20 * 6);
  serve.Kill(SIGTERM);
  ExpectEveryPositionOnceInOrder(ReadStream({nats->url()}, "CASELEDGER"), last);
}

}  // namespace
}  // namespace caseledger::testing
