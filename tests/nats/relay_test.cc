// The relay against one real nats-server: every event published once, in order, with
// decodable payloads and no personal data in clear; and a NATS outage while commands
// flow, after which the relay catches up without a gap.
#include "domain/event_codec.h"
#include "domain/event_json.h"
#include "eventstore/event_store.h"
#include "eventstore/nats_link.h"
#include "tests/nats/nats_process.h"
#include "tests/nats/nats_test_support.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace caseledger::testing {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

eventstore::RelayOptions FastRelay(std::vector<std::string> urls) {
  eventstore::RelayOptions r;
  r.urls = std::move(urls);
  r.ack_timeout = 1500ms;
  r.max_backoff = 500ms;
  return r;
}

bool RelayCaughtUp(TestServer& server) {
  return server.service().relay()->Status().acked_position == server.service().store().CommittedPosition();
}

TEST(NatsRelayTest, EveryEventOnceInOrderDecodableAndWithoutPersonalData) {
  TempDir dir;
  auto nats = SingleNode(dir.Sub("nats"));
  nats->Start();
  TestServer server([&](api::ServiceOptions& o) { o.relay = FastRelay({nats->url()}); });
  eventstore::EventStore& store = server.service().store();
  const uint64_t grants = store.CommittedPosition();  // the test subject's grants
  CaseWorkload load(server.port(), server.Token(), 4);
  load.Run(60);
  ASSERT_EQ(load.failures(), 0) << load.first_failure();
  const uint64_t last = store.CommittedPosition();
  ASSERT_EQ(last, grants + 60u * 6);
  ASSERT_TRUE(WaitUntil([&] { return RelayCaughtUp(server); }, 20s))
      << "relay acknowledged up to " << server.service().relay()->Status().acked_position << " of " << last;
  EXPECT_EQ(server.service().relay()->Lag(), 0u);

  auto messages = ReadStream({nats->url()}, "CASELEDGER");
  ExpectEveryPositionOnceInOrder(messages, last);
  auto log = store.ReadLog(1, last);
  ASSERT_TRUE(log);
  ASSERT_EQ(log->size(), messages.size());
  for (size_t i = 0; i < messages.size(); ++i) {
    const RelayedMessage& m = messages[i];
    const domain::Envelope& original = (*log)[i];
    EXPECT_EQ(m.subject, "caseledger.events." + original.type);
    EXPECT_EQ(m.stream, original.stream);
    EXPECT_EQ(m.type, original.type);
    EXPECT_EQ(m.schema_version, std::to_string(original.schema_version));
    json::value v = json::parse(m.data);
    EXPECT_FALSE(v.as_object().contains("hash"));
    EXPECT_FALSE(v.as_object().at("event").as_object().contains("personal")) << m.data;
    auto decoded = domain::EnvelopeFromJson(v.as_object());
    ASSERT_TRUE(decoded) << m.data << ": " << decoded.error().message;
    EXPECT_EQ(decoded->envelope.position, original.position);
    EXPECT_EQ(decoded->envelope.version, original.version);
    EXPECT_EQ(decoded->envelope.recorded_at, original.recorded_at);
    EXPECT_EQ(decoded->envelope.effective_at, original.effective_at);
    EXPECT_EQ(decoded->envelope.actor, original.actor);
    auto event = domain::Decode(original.type, original.schema_version, original.body, {});
    ASSERT_TRUE(event);
    EXPECT_EQ(domain::EventToJson(decoded->event, false), domain::EventToJson(*event, false));
  }
  // No tax code and no family name of the workload appears anywhere in the stream.
  const auto personal = load.PersonalValues();
  ASSERT_GE(personal.size(), 60u);
  for (const RelayedMessage& m : messages) {
    for (const std::string& value : personal) {
      ASSERT_EQ(m.data.find(value), std::string::npos) << value << " in " << m.data;
      ASSERT_EQ(m.subject.find(value), std::string::npos);
      ASSERT_EQ(m.stream.find(value), std::string::npos);
    }
  }
}

TEST(NatsRelayTest, CatchesUpWithoutAGapAfterANatsOutage) {
  TempDir dir;
  auto nats = SingleNode(dir.Sub("nats"));
  nats->Start();
  TestServer server([&](api::ServiceOptions& o) { o.relay = FastRelay({nats->url()}); });
  const uint64_t grants = server.service().store().CommittedPosition();
  CaseWorkload load(server.port(), server.Token(), 4);
  load.Start(150);
  ASSERT_TRUE(WaitUntil([&] { return server.service().relay()->Status().acked_position >= 120; }, 20s));

  nats->Stop();
  // Commands keep being accepted while NATS is down, and the relay falls behind.
  const int before = load.people_done();
  ASSERT_TRUE(WaitUntil([&] { return load.people_done() >= before + 20; }, 20s));
  EXPECT_TRUE(WaitUntil([&] { return !server.service().relay()->Status().connected; }, 10s));
  EXPECT_GT(server.service().relay()->Lag(), 0u);
  HttpClient http(server.port());
  auto metrics = http.Send("GET", "/metrics");
  EXPECT_NE(metrics.body.find("caseledger_relay_lag_events"), std::string::npos);
  EXPECT_EQ(metrics.body.find("caseledger_relay_lag_events 0\n"), std::string::npos) << "lag shows on /metrics";

  nats->Start();
  load.Wait();
  ASSERT_EQ(load.failures(), 0) << load.first_failure();
  const uint64_t last = server.service().store().CommittedPosition();
  ASSERT_EQ(last, grants + 150u * 6);
  ASSERT_TRUE(WaitUntil([&] { return RelayCaughtUp(server); }, 30s))
      << "relay acknowledged up to " << server.service().relay()->Status().acked_position << " of " << last;
  ExpectEveryPositionOnceInOrder(ReadStream({nats->url()}, "CASELEDGER"), last);
}

// The log is the truth: a stream that lost messages (here: deleted outright) is filled
// again from the log by the relay, from position 1.
TEST(NatsRelayTest, RepublishesFromTheLogWhenTheStreamLostItsMessages) {
  TempDir dir;
  auto nats = SingleNode(dir.Sub("nats"));
  nats->Start();
  TestServer server([&](api::ServiceOptions& o) { o.relay = FastRelay({nats->url()}); });
  CaseWorkload first(server.port(), server.Token(), 2);
  first.Run(20);
  ASSERT_TRUE(WaitUntil([&] { return RelayCaughtUp(server); }, 20s));
  {
    eventstore::NatsLinkOptions lo;
    lo.urls = {nats->url()};
    std::string error;
    auto link = eventstore::NatsLink::Connect(lo, &error);
    ASSERT_TRUE(link) << error;
    ASSERT_EQ(js_DeleteStream(link->js(), "CASELEDGER", nullptr, nullptr), NATS_OK);
  }
  CaseWorkload second(server.port(), server.Token(), 2, 1000);
  second.Run(10);
  ASSERT_EQ(second.failures(), 0) << second.first_failure();
  const uint64_t last = server.service().store().CommittedPosition();
  ASSERT_TRUE(WaitUntil([&] { return RelayCaughtUp(server); }, 30s))
      << server.service().relay()->Status().acked_position << " of " << last;
  ExpectEveryPositionOnceInOrder(ReadStream({nats->url()}, "CASELEDGER"), last);
}

}  // namespace
}  // namespace caseledger::testing
