// A group is answered once synced, while its memtable inserts still run (group_commit.cc,
// step 3). Whatever an appender does on hearing its answer, it reads what it was answered:
// the store's reads wait for the watermark to pass the last answered position. Closed-loop
// appenders, each answer handed to a reader thread that reads at once, as a server's
// connection thread does after a command.
#include "eventstore/event_store.h"

#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace caseledger::eventstore {
namespace {

using caseledger::testing::TempDir;

AppendRequest Request(const std::string& stream, uint64_t expected_version) {
  AppendRequest r;
  r.stream = stream;
  r.expected = expected_version == 0 ? ExpectedVersion::NoStream() : ExpectedVersion::Exactly(expected_version);
  r.events.push_back({"TestEvent", 1, std::string(200, 'x'), "", Timestamp{1'600'000'000'000'000}});
  r.actor = {"op-1", "operator"};
  return r;
}

TEST(EarlyAnswerTest, AReadBegunAfterAnAnswerSeesWhatItAnswered) {
  TempDir dir;
  StoreOptions o;
  o.path = dir.Sub("db");
  auto opened = EventStore::Open(o);
  ASSERT_TRUE(opened) << opened.error().message;
  EventStore& store = **opened;

  constexpr int kAppenders = 64;
  constexpr int kRounds = 40;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::pair<int, StoreResult<AppendResult>>> answers;
  auto send = [&](int a, uint64_t version) {
    store.AppendAsync(Request("s-" + std::to_string(a), version), [&, a](StoreResult<AppendResult> r) {
      std::lock_guard l(mu);
      answers.emplace_back(a, std::move(r));
      cv.notify_one();
    });
  };
  for (int a = 0; a < kAppenders; ++a) send(a, 0);

  int unseen = 0, behind = 0, failed = 0;
  for (int done = 0; done < kAppenders * kRounds; ++done) {
    std::unique_lock l(mu);
    cv.wait(l, [&] { return !answers.empty(); });
    auto [a, r] = std::move(answers.front());
    answers.pop_front();
    l.unlock();
    if (!r) {
      ++failed;
      continue;
    }
    // Read at once, off the commit thread: the stream's new version, and the log's watermark.
    if (store.CommittedPosition() < r->last_position) ++behind;
    auto events = store.ReadStream(r->stream, r->version, 1);
    if (!events || events->size() != 1 || events->front().position != r->last_position) ++unseen;
    if (done < kAppenders * (kRounds - 1)) send(a, r->version);
  }
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(behind, 0) << "the watermark was behind an answered append";
  EXPECT_EQ(unseen, 0) << "a read after the answer did not find the appended event";
}

}  // namespace
}  // namespace caseledger::eventstore
