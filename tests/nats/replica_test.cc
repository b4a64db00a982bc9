// A read replica over one real nats-server: it resumes its durable consumer after a
// restart, rebuilds from the stream when its views database is gone (the consumer had
// acknowledged everything), skips nothing and applies nothing twice: its views equal the
// primary's each time; and it follows rule adoptions made on the primary.
#include "tests/nats/nats_process.h"
#include "tests/nats/nats_test_support.h"

#include "serving/live_views.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

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

// Rules adopted on the primary reach the replica through the stream: it copies the
// adoption into its local rules stream and rebuilds its views from position 1 through its
// feed (the stream itself for what the feed no longer holds), blue-green, answering from
// the old views meanwhile, and ends with the primary's views byte for byte.
TEST(NatsReplicaTest, RebuildsAfterARuleAdoptionOnThePrimaryAndEndsEqualToIt) {
  TempDir dir;
  auto nats = SingleNode(dir.Sub("nats"));
  nats->Start();
  TestServer primary([&](api::ServiceOptions& o) {
    eventstore::RelayOptions r;
    r.urls = {nats->url()};
    o.relay = r;
    o.rebuild_nice = 0;
  });
  TestServer replica([&](api::ServiceOptions& o) {
    o.data_dir = dir.Sub("replica");
    eventstore::ReplicaFeedOptions f;
    f.urls = {nats->url()};
    f.durable = "replica-rules";
    f.max_backoff = 500ms;
    o.replica = f;
    o.rebuild_nice = 0;
  });
  CaseWorkload work(primary.port(), primary.Token(), 3);
  work.Run(30);
  ASSERT_EQ(work.failures(), 0) << work.first_failure();
  // Isolations from 2020-10-15, whose end the rules decide: ten days under the set of 2020,
  // seven under the one adopted below.
  HttpClient http(primary.port());
  for (int i = 0; i < 4; ++i) {
    const std::string body = R"({"family_name":"Isolato","given_names":"N)" + std::to_string(i) +
                             R"(","birth_date":"1970-01-01","sex":"F","residence_istat":"001272"})";
    auto reg = http.Post("/v1/people", body, primary.Token());
    ASSERT_EQ(reg.status, 201) << reg.body;
    const std::string id(reg.Json().at("person_id").as_string());
    auto iso = http.Post("/v1/people/" + id + "/isolation", R"({"start":"2020-10-15","reason":"positive"})", primary.Token());
    ASSERT_EQ(iso.status, 201) << iso.body;
  }
  const std::string changed = "/v1/views/region?day=2020-10-23";
  ExpectSameViews(primary, replica, primary.service().store().CommittedPosition());
  const std::string before = http.Get(changed, primary.Token()).body;

  auto adopted = http.Post("/v1/rules", RedatedDecember2021RuleSet(), primary.Token());
  ASSERT_EQ(adopted.status, 201) << adopted.body;
  ASSERT_TRUE(WaitUntil([&] { return primary.service().views().status().switches == 1; }, 60s));
  const std::string after = http.Get(changed, primary.Token()).body;
  ASSERT_NE(after, before) << "the adoption must change what the views answer, or the test proves nothing";

  // The replica answers throughout (the old views until the switch), then switches once.
  HttpClient r(replica.port());
  ASSERT_TRUE(WaitUntil([&] {
    EXPECT_EQ(r.Get(changed, replica.Token()).status, 200);
    return replica.service().views().status().switches == 1;
  }, 60s)) << replica.service().views().status().error;
  EXPECT_EQ(replica.service().views().status().error, "");
  ExpectSameViews(primary, replica, primary.service().store().CommittedPosition());
  EXPECT_EQ(r.Get(changed, replica.Token()).body, after);

  // And it keeps following: a command after the switch reaches the rebuilt views.
  CaseWorkload more(primary.port(), primary.Token(), 1, 1000);
  more.Run(2);
  ASSERT_EQ(more.failures(), 0) << more.first_failure();
  ExpectSameViews(primary, replica, primary.service().store().CommittedPosition());
}

}  // namespace
}  // namespace caseledger::testing
