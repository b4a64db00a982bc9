// Kill -9 under load: every acknowledged append must be there after reopening, in order,
// with an intact hash chain, and nothing unacknowledged may leave a gap.
#include "eventstore/event_store.h"

#include "tests/support/temp_dir.h"
#include "tests/support/build_paths.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <random>
#include <sstream>
#include <thread>

extern char** environ;

namespace caseledger::eventstore {
namespace {

struct Ack {
  std::string stream;
  uint64_t version;
  std::string body;
};

// Runs the appender for `run_for`, kills it with SIGKILL and returns the acks it reported.
// With `async`, the appender keeps 8 x 32 AppendAsync requests in flight (crash_appender.cc).
std::map<uint64_t, Ack> RunAndKill(const std::string& store_dir, int round,
                                   std::chrono::milliseconds run_for, bool async = false) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  std::string exe = caseledger::TestBinaryDir() + "/tests/crash_appender";
  std::string round_arg = std::to_string(round);
  std::string mode = "async";
  char* argv[] = {exe.data(), const_cast<char*>(store_dir.c_str()), round_arg.data(),
                  async ? mode.data() : nullptr, nullptr};
  pid_t pid;
  EXPECT_EQ(posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv, environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);

  // The window starts at the first acknowledgement, so that a slow start on a loaded
  // machine (opening the store, the master key) never leaves a round with nothing to check.
  std::atomic<bool> started{false};
  std::thread killer([pid, run_for, &started] {
    for (int i = 0; i < 2000 && !started; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::this_thread::sleep_for(run_for);
    kill(pid, SIGKILL);
  });
  std::string output;
  char buf[65536];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) {
    output.append(buf, n);
    if (output.find('\n') != std::string::npos) started = true;
  }
  close(fds[0]);
  killer.join();
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "appender exited on its own";

  std::map<uint64_t, Ack> acks;
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    if (lines.eof()) break;  // a torn last line was never a complete acknowledgement
    std::istringstream f(line);
    uint64_t pos;
    Ack a;
    f >> pos >> a.stream >> a.version >> a.body;
    acks[pos] = a;
  }
  return acks;
}

// Rounds of appending and SIGKILL at a random moment on one store; after each, the store
// reopens with every acknowledged append where its acknowledgement said, no gap, stream
// versions contiguous and the whole chain verifying.
void KillRounds(bool async, unsigned seed) {
  caseledger::testing::TempDir dir;
  const std::string store_dir = dir.Sub("db");
  std::mt19937 rng(seed);
  std::map<uint64_t, Ack> all_acks;
  for (int round = 0; round < 6; ++round) {
    // Asynchronous appends acknowledge ~10x more per second: shorter rounds, same checks.
    auto run_for = std::chrono::milliseconds(async ? 50 + rng() % 250 : 150 + rng() % 600);
    auto acks = RunAndKill(store_dir, round, run_for, async);
    ASSERT_GT(acks.size(), 0u) << "round " << round << " acknowledged nothing";
    all_acks.insert(acks.begin(), acks.end());

    StoreOptions o;
    o.path = store_dir;
    o.master_key_path = store_dir + ".master.key";
    auto store = EventStore::Open(o);
    ASSERT_TRUE(store) << store.error().message;
    uint64_t committed = (*store)->CommittedPosition();
    ASSERT_GE(committed, all_acks.rbegin()->first) << "an acknowledged position is missing";
    auto log = (*store)->ReadLog(1, committed + 1);
    ASSERT_TRUE(log);
    ASSERT_EQ(log->size(), committed) << "gap in the log";
    std::map<std::string, uint64_t> versions;
    for (const auto& e : *log) {
      ASSERT_EQ(e.version, ++versions[e.stream]) << "stream versions not contiguous at " << e.position;
    }
    for (const auto& [pos, ack] : all_acks) {
      const auto& e = (*log)[pos - 1];
      ASSERT_EQ(e.position, pos);
      EXPECT_EQ(e.stream, ack.stream) << "position " << pos;
      EXPECT_EQ(e.version, ack.version) << "position " << pos;
      EXPECT_EQ(e.body, ack.body) << "position " << pos;
    }
    store->reset();
    auto report = VerifyStore({store_dir, {}, 1'000'000});
    ASSERT_TRUE(report);
    EXPECT_EQ(report->first_bad_position, 0u) << report->problem;
    EXPECT_EQ(report->events_checked, committed);
  }
}

TEST(CrashTest, EveryAcknowledgedAppendSurvivesSigkill) { KillRounds(false, 2020); }

// Many appends in flight at the kill (8 threads x 32 asynchronous appends): the answers
// come from the sync thread, and no acknowledged one may be missing after the restart.
TEST(CrashTest, EveryAcknowledgedAsynchronousAppendSurvivesSigkill) { KillRounds(true, 2021); }

}  // namespace
}  // namespace caseledger::eventstore
