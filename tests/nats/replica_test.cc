// A read replica over one real nats-server: it resumes its durable consumer after a
// restart, rebuilds from the stream when its views database is gone (the consumer had
// acknowledged everything), skips nothing and applies nothing twice: its views equal the
// primary's each time.
#include "tests/nats/nats_process.h"
#include "tests/nats/nats_test_support.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace caseledger::testing {
namespace {

using namespace std::chrono_literals;

void ExpectSameViews(TestServer& primary, TestServer& replica, uint64_t last) {
  ASSERT_TRUE(WaitUntil([&] { return replica.service().views_position() == last; }, 30s))
      << "replica at " << replica.service().views_position() << " of " << last << ": "
      << replica.service().replica_feed()->Status().failure;
  HttpClient p(primary.port()), r(replica.port());
  const std::string tp = primary.Token(), tr = replica.Token();
  for (const std::string& url : ViewUrls()) {
    auto expected = p.Get(url, tp);
    ASSERT_EQ(expected.status, 200) << url;
    auto got = r.Get(url, tr);
    EXPECT_EQ(got.body, expected.body) << url;
    EXPECT_EQ(got.Header("x-position"), std::to_string(last)) << url;
  }
}

TEST(NatsReplicaTest, ResumesAfterRestartAndRebuildsWhenItsViewsAreGone) {
  TempDir dir;
  auto nats = SingleNode(dir.Sub("nats"));
  nats->Start();
  TestServer primary([&](api::ServiceOptions& o) {
    eventstore::RelayOptions r;
    r.urls = {nats->url()};
    o.relay = r;
  });
  const std::string replica_dir = dir.Sub("replica");
  auto replica_options = [&](api::ServiceOptions& o) {
    o.data_dir = replica_dir;
    eventstore::ReplicaFeedOptions f;
    f.urls = {nats->url()};
    f.durable = "replica-a";
    f.max_backoff = 500ms;
    o.replica = f;
  };
  auto replica = std::make_unique<TestServer>(replica_options);
  CaseWorkload first(primary.port(), primary.Token(), 3);
  first.Run(30);
  ASSERT_EQ(first.failures(), 0) << first.first_failure();
  ExpectSameViews(primary, *replica, primary.service().store().CommittedPosition());

  // Restarted while the primary moved on: continues where its durable consumer stood.
  replica.reset();
  CaseWorkload second(primary.port(), primary.Token(), 3, 1000);
  second.Run(20);
  ASSERT_EQ(second.failures(), 0) << second.first_failure();
  replica = std::make_unique<TestServer>(replica_options);
  ExpectSameViews(primary, *replica, primary.service().store().CommittedPosition());
  EXPECT_EQ(replica->service().replica_feed()->Status().repositions, 0u);

  // Its views deleted: the consumer had acknowledged every message, so the feed starts it
  // again from the stream's beginning, with no new message needed to notice.
  replica.reset();
  std::filesystem::remove_all(replica_dir + "/views");
  replica = std::make_unique<TestServer>(replica_options);
  ExpectSameViews(primary, *replica, primary.service().store().CommittedPosition());
  EXPECT_EQ(replica->service().replica_feed()->Status().repositions, 1u);

  // Grants come from the primary's log: a new subject is refused on the replica until the
  // primary grants it a role, then allowed.
  HttpClient r(replica->port());
  const std::string gp_token = replica->Token("gp-reader");
  const std::string url = "/v1/views/gps/" + CaseWorkload::Gps()[0] + "?day=2020-10-20";
  EXPECT_EQ(r.Get(url, gp_token).status, 403);
  primary.Grant("gp-reader", "gp", CaseWorkload::Gps()[0]);
  const uint64_t last = primary.service().store().CommittedPosition();
  ASSERT_TRUE(WaitUntil([&] { return replica->service().views_position() == last; }, 30s));
  EXPECT_EQ(r.Get(url, gp_token).status, 200);
}

}  // namespace
}  // namespace caseledger::testing
