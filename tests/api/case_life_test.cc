// The full life of a case over HTTP against a real server and store.
#include "domain/event_codec.h"
#include "domain/events.h"
#include "domain/tax_code.h"
#include "domain/time.h"
#include "eventstore/event_store.h"
#include "tests/support/test_server.h"

#include <algorithm>
#include <cctype>
#include <chrono>

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <openssl/evp.h>

namespace caseledger::testing {
namespace {

std::string Str(const boost::json::value& v, const char* key) {
  return std::string(v.as_object().at(key).as_string());
}

// A valid tax code for a person born in Torino (L219).
std::string TaxCode(const std::string& family, const std::string& given, const char* birth, char sex) {
  return domain::ComposeTaxCode(family, given, *domain::Date::Parse(birth), sex, "L219");
}

std::string RegisterBody(const std::string& family, const std::string& given, const char* birth, char sex,
                         const char* istat = "001272") {
  boost::json::object o{{"tax_code", TaxCode(family, given, birth, sex)},
                        {"family_name", family},
                        {"given_names", given},
                        {"birth_date", birth},
                        {"sex", std::string(1, sex)},
                        {"residence_istat", istat},
                        {"address", "Via Roma 1"},
                        {"phone", "+39 011 1234567"}};
  return boost::json::serialize(o);
}

TEST(CaseLifeTest, RegisterSwabPositiveIsolateContactsRecover) {
  TestServer server;
  HttpClient http(server.port());
  server.Grant("operator-1", "operator", "TO");  // ASL Città di Torino: 001272 is in it
  const std::string token = server.Token("operator-1");

  auto reg = http.Post("/v1/people", RegisterBody("Rossi", "Mario", "1985-12-10", 'M'), token);
  ASSERT_EQ(reg.status, 201) << reg.body;
  const std::string id = Str(reg.Json(), "person_id");
  EXPECT_EQ(reg.Header("location"), "/v1/people/" + id);
  EXPECT_EQ(reg.Json().at("version").to_number<uint64_t>(), 1u);

  auto contact = http.Post("/v1/people", RegisterBody("Bianchi", "Anna", "1990-03-05", 'F'), token);
  ASSERT_EQ(contact.status, 201) << contact.body;
  const std::string contact_id = Str(contact.Json(), "person_id");

  auto swab = http.Post("/v1/people/" + id + "/swabs", R"({"requested_at":"2020-10-01T08:00:00Z","swab_id":"TO-0001","kind":"molecular","reason":"symptoms"})", token);
  ASSERT_EQ(swab.status, 201) << swab.body;
  EXPECT_EQ(Str(swab.Json(), "swab_id"), "TO-0001");
  auto collected = http.Post("/v1/swabs/TO-0001/collection", R"({"lab_id":"LAB-TO1","collected_at":"2020-10-20T09:00:00Z","site":"drive-in Torino"})", token);
  ASSERT_EQ(collected.status, 201) << collected.body;
  auto result = http.Post("/v1/swabs/TO-0001/result", R"({"outcome":"positive","lab_id":"LAB-TO1","reported_at":"2020-10-21T15:00:00Z"})", token);
  ASSERT_EQ(result.status, 201) << result.body;

  auto isolation = http.Post("/v1/people/" + id + "/isolation", R"({"start":"2020-10-20","reason":"positive"})", token);
  ASSERT_EQ(isolation.status, 201) << isolation.body;
  const uint64_t measure = isolation.Json().at("measure_id").to_number<uint64_t>();

  auto reported = http.Post("/v1/people/" + contact_id + "/contacts",
                            R"({"contact_of":")" + id + R"(","last_exposure":"2020-10-19"})", token);
  ASSERT_EQ(reported.status, 201) << reported.body;
  auto quarantine = http.Post("/v1/people/" + contact_id + "/quarantine",
                              R"({"start":"2020-10-19","reason":"close_contact","source_case":")" + id + R"("})", token);
  ASSERT_EQ(quarantine.status, 201) << quarantine.body;

  ASSERT_EQ(http.Post("/v1/people/" + id + "/swabs", R"({"requested_at":"2020-10-01T08:00:00Z","swab_id":"TO-0002","kind":"molecular","reason":"release"})", token).status, 201);
  ASSERT_EQ(http.Post("/v1/swabs/TO-0002/collection", R"({"lab_id":"LAB-TO1","collected_at":"2020-10-30T09:00:00Z"})", token).status, 201);
  ASSERT_EQ(http.Post("/v1/swabs/TO-0002/result", R"({"outcome":"negative","lab_id":"LAB-TO1","reported_at":"2020-10-30T18:00:00Z"})", token).status, 201);
  auto ended = http.Post("/v1/people/" + id + "/measures/" + std::to_string(measure) + "/end",
                         R"({"at":"2020-10-31","reason":"negative_test"})", token);
  ASSERT_EQ(ended.status, 201) << ended.body;
  auto closed = http.Post("/v1/people/" + id + "/closure", R"({"outcome":"recovered","at":"2020-10-31"})", token);
  ASSERT_EQ(closed.status, 201) << closed.body;

  auto person = http.Get("/v1/people/" + id, token);
  ASSERT_EQ(person.status, 200) << person.body;
  auto p = person.Json().as_object();
  EXPECT_EQ(p.at("case").at("open").as_bool(), false);
  EXPECT_EQ(Str(p.at("case").at("closure"), "outcome"), "recovered");
  ASSERT_EQ(p.at("swabs").as_array().size(), 2u);
  EXPECT_EQ(Str(p.at("swabs").as_array()[0], "outcome"), "positive");
  EXPECT_EQ(Str(p.at("measures").as_array()[0], "status"), "ended");
  EXPECT_EQ(Str(p.at("residence"), "asl"), "TO");
  EXPECT_FALSE(person.Header("etag").empty());
  EXPECT_FALSE(person.Header("x-position").empty());

  // Conditional read: the same version answers 304.
  auto again = http.Get("/v1/people/" + id, token, {{"If-None-Match", person.Header("etag")}});
  EXPECT_EQ(again.status, 304);
  // The current answer depends on the day (measures and vaccination status run out at
  // midnight in Italy), so its tag names the day: yesterday's tag gets no 304 tomorrow.
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const int32_t today = domain::Timestamp{micros}.ToDate().days;
  const std::string tag = person.Header("etag");
  EXPECT_TRUE(tag.ends_with("-d" + std::to_string(today) + "\"") ||
              tag.ends_with("-d" + std::to_string(today - 1) + "\""))
      << tag;
  // The whole tag: "p<version>-r<rules position>-d<day>" in quotes.
  const std::string version = std::to_string(p.at("version").as_int64());
  ASSERT_TRUE(tag.starts_with("\"p" + version + "-r")) << tag;
  const size_t rules_at = 2 + version.size() + 2, day_at = tag.find("-d", rules_at);
  ASSERT_NE(day_at, std::string::npos) << tag;
  const std::string rules = tag.substr(rules_at, day_at - rules_at);
  EXPECT_TRUE(!rules.empty() && std::all_of(rules.begin(), rules.end(), ::isdigit)) << tag;

  // The contact's quarantine ends by the 12 Oct 2020 rules: 14 days after exposure.
  auto c = http.Get("/v1/people/" + contact_id, token).Json();
  EXPECT_EQ(Str(c.at("measures").as_array()[0], "end"), "2020-11-02");

  // Past state: before the positive result was recorded, the case was not open.
  auto history = http.Get("/v1/people/" + id + "/history", token);
  ASSERT_EQ(history.status, 200);
  auto events = history.Json().at("events").as_array();
  ASSERT_GE(events.size(), 10u);
  EXPECT_EQ(Str(events[0], "type"), "PersonRegistered");
  EXPECT_EQ(Str(events[0].at("actor"), "id"), "operator-1");
  EXPECT_EQ(Str(events[0].at("actor"), "role"), "operator");
  ASSERT_EQ(Str(events[2], "type"), "SwabCollected");
  std::string before_result = Str(events[2], "recorded_at");
  auto past = http.Get("/v1/people/" + id + "?as_of=" + before_result, token);
  ASSERT_EQ(past.status, 200) << past.body;
  EXPECT_EQ(past.Json().at("case").at("open").as_bool(), false);
  EXPECT_TRUE(past.Json().at("swabs").as_array()[0].at("outcome").is_null());
  // A past answer's tag names the instants asked for (the effective one not asked: empty).
  EXPECT_EQ(past.Header("etag"), "\"p" + std::to_string(past.Json().at("version").as_int64()) + "-r" + rules + "-a" +
                                     std::to_string(domain::Timestamp::Parse(before_result)->micros) + "-e\"");
  auto effective = http.Get("/v1/people/" + id + "?effective_at=" + before_result + "&as_of=" + before_result, token);
  ASSERT_EQ(effective.status, 200) << effective.body;
  EXPECT_EQ(effective.Header("etag"),
            "\"p" + std::to_string(effective.Json().at("version").as_int64()) + "-r" + rules + "-a" +
                std::to_string(domain::Timestamp::Parse(before_result)->micros) + "-e" +
                std::to_string(domain::Timestamp::Parse(before_result)->micros) + "\"");

  // The store's write path shows on /metrics.
  auto metrics = http.Send("GET", "/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("caseledger_store_events_total"), std::string::npos);
  EXPECT_NE(metrics.body.find("route=\"/v1/people/{id}\",method=\"GET\",status=\"200\""), std::string::npos);

  // Lookup by tax code finds the same person.
  auto found = http.Get("/v1/people?tax_code=" + TaxCode("Rossi", "Mario", "1985-12-10", 'M'), token);
  ASSERT_EQ(found.status, 200) << found.body;
  EXPECT_EQ(Str(found.Json(), "id"), id);
}

TEST(CaseLifeTest, IdempotentRetryAndVersionConflict) {
  TestServer server;
  HttpClient http(server.port());
  const std::string token = server.Token();
  auto body = RegisterBody("Verdi", "Luca", "1970-01-01", 'M');
  auto first = http.Post("/v1/people", body, token, {{"Idempotency-Key", "k-1"}});
  ASSERT_EQ(first.status, 201) << first.body;
  auto retry = http.Post("/v1/people", body, token, {{"Idempotency-Key", "k-1"}});
  ASSERT_EQ(retry.status, 201) << retry.body;
  EXPECT_EQ(Str(retry.Json(), "person_id"), Str(first.Json(), "person_id"));
  EXPECT_EQ(retry.Json().at("position"), first.Json().at("position"));
  EXPECT_EQ(retry.Header("idempotent-replayed"), "true");
  const uint64_t committed = server.service().store().CommittedPosition();
  auto other = http.Post("/v1/people", RegisterBody("Neri", "Luca", "1971-01-01", 'M'), token, {{"Idempotency-Key", "k-1"}});
  EXPECT_EQ(other.status, 422) << other.body;
  EXPECT_EQ(server.service().store().CommittedPosition(), committed);

  const std::string id = Str(first.Json(), "person_id");
  auto stale = http.Post("/v1/people/" + id + "/gp", R"({"gp_id":"GP1234"})", token, {{"If-Match", "\"0\""}});
  EXPECT_EQ(stale.status, 412) << stale.body;
  EXPECT_EQ(stale.Header("etag"), "\"1\"");
  EXPECT_EQ(stale.Json().at("current_version").to_number<uint64_t>(), 1u);
  auto fresh = http.Post("/v1/people/" + id + "/gp", R"({"gp_id":"GP1234"})", token, {{"If-Match", "\"1\""}});
  EXPECT_EQ(fresh.status, 201) << fresh.body;
}

// The digest the server stored with an idempotency key before digests were keyed.
std::string UnkeyedDigest(const std::string& request) {
  unsigned char hash[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(request.data(), request.size(), hash, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) out.append({kHex[hash[i] >> 4], kHex[hash[i] & 15]});
  return out;
}

// A stored digest outlives an erasure of the person: it must not let anyone holding the
// files test guesses of the body (tax code, name). Records stored before still answer.
TEST(CaseLifeTest, IdempotencyDigestsAreKeyedAndRecordsFromBeforeStillAnswer) {
  TestServer server;
  HttpClient http(server.port());
  const std::string token = server.Token();
  eventstore::EventStore& store = server.service().store();
  const std::string body = RegisterBody("Bianchi", "Anna", "1980-05-05", 'F');
  auto first = http.Post("/v1/people", body, token, {{"Idempotency-Key", "k-d"}});
  ASSERT_EQ(first.status, 201) << first.body;
  auto retry = http.Post("/v1/people", body, token, {{"Idempotency-Key", "k-d"}});
  ASSERT_EQ(retry.status, 201) << retry.body;
  EXPECT_EQ(retry.Header("idempotent-replayed"), "true");
  EXPECT_EQ(retry.Json().at("position"), first.Json().at("position"));
  auto other = http.Post("/v1/people", RegisterBody("Bianchi", "Anna", "1980-05-06", 'F'), token,
                         {{"Idempotency-Key", "k-d"}});
  EXPECT_EQ(other.status, 422) << other.body;

  const std::string subject = TestServer::kDefaultSubject;
  auto stored = store.FindIdempotencyKey("http2/" + std::to_string(subject.size()) + ":" + subject + "/k-d");
  ASSERT_TRUE(stored && *stored);
  const std::string digest = (*stored)->digest;
  EXPECT_TRUE(digest.starts_with("k1:")) << digest;
  EXPECT_EQ(digest.find(UnkeyedDigest("POST /v1/people\n" + body)), std::string::npos);
  EXPECT_TRUE(store.RequestDigestMatches(digest, "POST /v1/people\n" + body));

  // A record as an earlier server stored it: unkeyed digest of "METHOD PATH\nBODY".
  const std::string id = Str(first.Json(), "person_id");
  const std::string path = "/v1/people/" + id + "/gp", gp_body = R"({"gp_id":"GP1234"})";
  eventstore::AppendRequest r;
  r.stream = domain::PersonStream(id);
  r.actor = {TestServer::kDefaultSubject, "operator"};
  domain::EncodedEvent enc = domain::Encode(domain::Event{domain::GpAssigned{"GP1234", ""}});
  r.events.push_back({enc.type, enc.schema_version, enc.body, enc.personal, {}});
  r.idempotency_key = std::string("http/") + TestServer::kDefaultSubject + "/k-old";
  r.request_digest = UnkeyedDigest("POST " + path + "\n" + gp_body);
  auto old = store.Append(r);
  ASSERT_TRUE(old) << old.error().message;
  auto replayed = http.Post(path, gp_body, token, {{"Idempotency-Key", "k-old"}});
  ASSERT_EQ(replayed.status, 201) << replayed.body;
  EXPECT_EQ(replayed.Header("idempotent-replayed"), "true");
  EXPECT_EQ(replayed.Json().at("position").to_number<uint64_t>(), old->last_position);
  auto changed = http.Post(path, R"({"gp_id":"GP9999"})", token, {{"Idempotency-Key", "k-old"}});
  EXPECT_EQ(changed.status, 422) << changed.body;
  EXPECT_EQ(store.CommittedPosition(), old->last_position);
}

}  // namespace
}  // namespace caseledger::testing
