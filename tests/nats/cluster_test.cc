// A 3-node JetStream cluster with the stream at 3 replicas, a primary relaying into it
// and two read replicas fed from it, under load; the node leading the stream is killed
// mid-run. Afterwards both replicas answer every view exactly as the primary does and
// the stream holds every position once, in order (docs/nats.md).
#include "eventstore/event_store.h"
#include "tests/nats/nats_process.h"
#include "tests/nats/nats_test_support.h"

#include <gtest/gtest.h>

namespace caseledger::testing {
namespace {

using namespace std::chrono_literals;

TEST(NatsClusterTest, ReplicasEqualThePrimaryAfterANatsNodeIsKilled) {
  TempDir dir;
  NatsCluster cluster(dir.Sub("nats"));
  cluster.StartAll();
  TestServer primary([&](api::ServiceOptions& o) {
    eventstore::RelayOptions r;
    r.urls = cluster.urls();
    r.replicas = 3;
    r.ack_timeout = 2s;
    r.max_backoff = 500ms;
    o.relay = r;
  });
  // The stream exists once the cluster elected its leaders and the relay created it.
  ASSERT_TRUE(WaitUntil([&] { return !StreamLeader(cluster.urls(), "CASELEDGER").empty(); }, 30s));
  auto replica_of = [&](const std::string& name) {
    return [&, name](api::ServiceOptions& o) {
      eventstore::ReplicaFeedOptions f;
      f.urls = cluster.urls();
      f.durable = name;
      f.max_backoff = 500ms;
      o.replica = f;
      o.primary_url = "http://127.0.0.1:" + std::to_string(primary.port());
    };
  };
  TestServer replica1(replica_of("replica-1"));
  TestServer replica2(replica_of("replica-2"));

  const uint64_t grants = primary.service().store().CommittedPosition();
  CaseWorkload load(primary.port(), primary.Token(), 4);
  load.Start(150);
  ASSERT_TRUE(WaitUntil([&] { return load.people_done() >= 40; }, 30s)) << load.first_failure();
  // The stream's leader (asked again if a busy cluster does not answer at once).
  std::string leader;
  ASSERT_TRUE(WaitUntil([&] { return !(leader = StreamLeader(cluster.urls(), "CASELEDGER")).empty(); }, 20s));
  NatsNode* victim = cluster.Find(leader);
  ASSERT_NE(victim, nullptr) << "stream leader '" << leader << "'";
  victim->Kill();
  load.Wait();
  ASSERT_EQ(load.failures(), 0) << load.first_failure();

  const uint64_t last = primary.service().store().CommittedPosition();
  ASSERT_EQ(last, grants + 150u * 6);
  ASSERT_TRUE(WaitUntil([&] { return primary.service().relay()->Status().acked_position == last; }, 60s))
      << "relay at " << primary.service().relay()->Status().acked_position << " of " << last << ": "
      << primary.service().relay()->Status().failure;
  for (TestServer* r : {&replica1, &replica2}) {
    ASSERT_TRUE(WaitUntil([&] { return r->service().views_position() == last; }, 60s))
        << "replica views at " << r->service().views_position() << " of " << last << ": "
        << r->service().replica_feed()->Status().failure;
  }

  HttpClient p(primary.port()), r1(replica1.port()), r2(replica2.port());
  const std::string tp = primary.Token(), t1 = replica1.Token(), t2 = replica2.Token();
  for (const std::string& url : ViewUrls()) {
    auto expected = p.Get(url, tp);
    ASSERT_EQ(expected.status, 200) << url << ": " << expected.body;
    EXPECT_EQ(expected.Header("x-position"), std::to_string(last));
    for (auto [client, token] : {std::pair{&r1, t1}, std::pair{&r2, t2}}) {
      auto got = client->Get(url, token);
      EXPECT_EQ(got.status, 200) << url;
      EXPECT_EQ(got.body, expected.body) << url;
      EXPECT_EQ(got.Header("x-position"), std::to_string(last)) << url;
    }
  }
  // A replica takes no commands and names the primary.
  auto refused = r1.Post("/v1/people", "{}", t1);
  EXPECT_EQ(refused.status, 503);
  EXPECT_NE(refused.body.find("http://127.0.0.1:" + std::to_string(primary.port())), std::string::npos);
  // min_position works against the replica's own position.
  EXPECT_EQ(r1.Get("/v1/views/region?min_position=" + std::to_string(last), t1).status, 200);
  EXPECT_EQ(r1.Get("/v1/views/region?min_position=" + std::to_string(last + 1) + "&timeout_ms=100", t1).status, 503);

  ExpectEveryPositionOnceInOrder(ReadStream(cluster.urls(), "CASELEDGER"), last);
}

}  // namespace
}  // namespace caseledger::testing
