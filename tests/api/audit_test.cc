// Audit over HTTP (docs/api.md): the state as the registry knew it at a past instant against
// the state as it really was then (a late result), the history with its envelope fields
// and linked corrections, and the chain tip.
#include "domain/tax_code.h"
#include "eventstore/event_store.h"
#include "tests/support/test_server.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace caseledger::testing {
namespace {

namespace json = boost::json;

std::string Now() {
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count();
  return domain::Timestamp{micros}.ToString();
}

class AuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    json::object body{{"tax_code", domain::ComposeTaxCode("Ferrero", "Giulia", *domain::Date::Parse("1979-04-02"), 'F', "L219")},
                      {"family_name", "Ferrero"}, {"given_names", "Giulia"}, {"birth_date", "1979-04-02"},
                      {"sex", "F"}, {"residence_istat", "001272"}};
    auto reg = http_.Post("/v1/people", json::serialize(body), token_);
    ASSERT_EQ(reg.status, 201) << reg.body;
    id_ = std::string(reg.Json().at("person_id").as_string());
    ASSERT_EQ(http_.Post("/v1/people/" + id_ + "/swabs", R"({"swab_id":"TO-0042","kind":"molecular","reason":"symptoms"})", token_).status, 201);
    ASSERT_EQ(http_.Post("/v1/swabs/TO-0042/collection", R"({"collected_at":"2020-10-20T09:00:00Z","site":"drive-in"})", token_).status, 201);
  }

  json::value Person(const std::string& query) {
    auto r = http_.Get("/v1/people/" + id_ + query, token_);
    EXPECT_EQ(r.status, 200) << query << ": " << r.body;
    return r.Json();
  }
  static json::value Swab(const json::value& person) { return person.at("swabs").as_array().at(0); }

  TestServer server_;
  HttpClient http_{server_.port()};
  std::string token_ = server_.Token();  // operator everywhere, admin and auditor
  std::string id_;
};

TEST_F(AuditTest, AResultRecordedLateIsAbsentAsOfBeforeItsRecordingAndPresentAfter) {
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const std::string t = Now();  // the registry knows the swab, not yet its result
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  // Reported weeks after sampling: recorded now, effective at the collection (2020-10-20).
  auto result = http_.Post("/v1/swabs/TO-0042/result", R"({"outcome":"positive","lab_id":"LAB-TO1","reported_at":"2020-11-10T15:00:00Z"})", token_);
  ASSERT_EQ(result.status, 201) << result.body;
  const std::string after = Now();

  EXPECT_TRUE(Swab(Person("?as_of=" + t)).at("outcome").is_null());
  EXPECT_EQ(Swab(Person("?as_of=" + after)).at("outcome"), "positive");
  EXPECT_EQ(Swab(Person("")).at("outcome"), "positive");
  // As it really was at T, late reports included: the sample was positive.
  EXPECT_EQ(Swab(Person("?effective_at=" + t)).at("outcome"), "positive");

  auto history_then = http_.Get("/v1/people/" + id_ + "/history?as_of=" + t, token_);
  ASSERT_EQ(history_then.status, 200) << history_then.body;
  const json::value then = history_then.Json();
  ASSERT_EQ(then.at("events").as_array().size(), 3u);  // registered, swab requested, collected
  for (const auto& e : then.at("events").as_array()) EXPECT_NE(e.at("type"), "ResultRecorded");
  EXPECT_EQ(then.at("as_of").as_string(), t);
  auto history_before_registration = http_.Get("/v1/people/" + id_ + "/history?as_of=2020-01-01T00:00:00Z", token_);
  EXPECT_EQ(history_before_registration.status, 404);
}

TEST_F(AuditTest, HistoryCarriesEveryEnvelopeFieldAndLinksCorrectionsBothWays) {
  auto result = http_.Post("/v1/swabs/TO-0042/result", R"({"outcome":"negative","lab_id":"LAB-TO1","reported_at":"2020-10-21T15:00:00Z"})", token_);
  ASSERT_EQ(result.status, 201) << result.body;
  auto correction = http_.Post("/v1/swabs/TO-0042/correction",
                               R"({"outcome":"positive","reason":"transcription error","lab_id":"LAB-TO1"})", token_,
                               {{"X-Correlation-Id", "ticket-42"}, {"X-Causation-Id", "call-7"}});
  ASSERT_EQ(correction.status, 201) << correction.body;
  const uint64_t recorded_at = result.Json().at("position").to_number<uint64_t>();
  const uint64_t corrected_at = correction.Json().at("position").to_number<uint64_t>();

  auto history = http_.Get("/v1/people/" + id_ + "/history", token_);
  ASSERT_EQ(history.status, 200) << history.body;
  const json::value body = history.Json();
  const auto& events = body.at("events").as_array();
  ASSERT_EQ(events.size(), 5u);
  for (const auto& e : events) {
    for (const char* field : {"position", "stream", "version", "type", "schema_version", "recorded_at", "effective_at",
                              "actor", "prev_hash", "hash", "event"}) {
      EXPECT_TRUE(e.as_object().contains(field)) << field;
    }
    EXPECT_EQ(e.at("actor").at("id"), TestServer::kDefaultSubject);
    EXPECT_TRUE(e.at("actor").as_object().contains("role"));
  }
  const auto& recorded = events[3].as_object();
  const auto& corrected = events[4].as_object();
  EXPECT_EQ(recorded.at("type"), "ResultRecorded");
  EXPECT_EQ(recorded.at("corrected_by"), json::array({corrected_at}));
  EXPECT_EQ(corrected.at("type"), "ResultCorrected");
  EXPECT_EQ(corrected.at("corrects").to_number<uint64_t>(), recorded_at);
  EXPECT_EQ(corrected.at("correlation_id"), "ticket-42");
  EXPECT_EQ(corrected.at("causation_id"), "call-7");
  EXPECT_EQ(corrected.at("schema_version").to_number<int>(), 1);
  // A late result is effective at sampling, recorded now.
  EXPECT_EQ(recorded.at("effective_at"), "2020-10-20T09:00:00Z");
  EXPECT_NE(recorded.at("recorded_at"), recorded.at("effective_at"));
  // Links: each envelope's prev_hash is the hash of the event before it in the log.
  EXPECT_EQ(events[0].at("prev_hash").as_string().size(), 64u);

  // The chain tip is the last event's hash.
  auto tip = http_.Get("/v1/audit/chain", token_);
  ASSERT_EQ(tip.status, 200) << tip.body;
  EXPECT_EQ(tip.Json().at("position").to_number<uint64_t>(), corrected_at);
  EXPECT_EQ(tip.Json().at("hash"), corrected.at("hash"));
  EXPECT_EQ(tip.Header("x-position"), std::to_string(corrected_at));
}

}  // namespace
}  // namespace caseledger::testing
