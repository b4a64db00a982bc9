// The person cache behind GET /v1/people/{id} and the commands: what it serves, after
// commands that leave their state in it and reads that reuse a rendered answer, equals a
// fresh fold of the log (the as_of read folds the stream without the cache).
#include "domain/tax_code.h"
#include "domain/time.h"
#include "tests/support/test_server.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <chrono>

namespace caseledger::testing {
namespace {

std::string RegisterBody() {
  std::string code = domain::ComposeTaxCode("Gallo", "Paola", *domain::Date::Parse("1970-04-02"), 'F', "L219");
  boost::json::object o{{"tax_code", code},         {"family_name", "Gallo"},
                        {"given_names", "Paola"},   {"birth_date", "1970-04-02"},
                        {"sex", "F"},               {"residence_istat", "001272"},
                        {"address", "Via Po 3"},    {"phone", "+39 011 7654321"}};
  return boost::json::serialize(o);
}

std::string NowText() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return domain::Timestamp{std::chrono::duration_cast<std::chrono::seconds>(now).count() * 1'000'000 + 1'000'000}
      .ToString();
}

// The person as served now, and as a fresh fold of everything recorded so far.
void ExpectServedEqualsFreshFold(HttpClient& http, const std::string& id, const std::string& token) {
  auto served = http.Get("/v1/people/" + id, token);
  ASSERT_EQ(served.status, 200) << served.body;
  auto again = http.Get("/v1/people/" + id, token);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.body, served.body);
  auto folded = http.Get("/v1/people/" + id + "?as_of=" + NowText(), token);
  ASSERT_EQ(folded.status, 200) << folded.body;
  EXPECT_EQ(served.Json(), folded.Json());
}

TEST(PersonCacheTest, ServedPersonFollowsEveryCommandAndEqualsAFreshFold) {
  TestServer server;
  HttpClient http(server.port());
  const std::string token = server.Token();

  auto reg = http.Post("/v1/people", RegisterBody(), token);
  ASSERT_EQ(reg.status, 201) << reg.body;
  const std::string id(reg.Json().at("person_id").as_string());
  ExpectServedEqualsFreshFold(http, id, token);

  ASSERT_EQ(http.Post("/v1/people/" + id + "/swabs", R"({"requested_at":"2020-10-01T08:00:00Z","swab_id":"TO-0901","kind":"molecular","reason":"symptoms"})", token).status, 201);
  ExpectServedEqualsFreshFold(http, id, token);
  ASSERT_EQ(http.Post("/v1/swabs/TO-0901/collection", R"({"lab_id":"LAB-TO1","collected_at":"2020-10-20T09:00:00Z","site":"drive-in"})", token).status, 201);
  ASSERT_EQ(http.Post("/v1/swabs/TO-0901/result", R"({"outcome":"positive","lab_id":"LAB-TO1","reported_at":"2020-10-21T15:00:00Z"})", token).status, 201);
  ExpectServedEqualsFreshFold(http, id, token);

  auto person = http.Get("/v1/people/" + id, token);
  ASSERT_EQ(person.status, 200);
  const boost::json::value json = person.Json();
  ASSERT_EQ(json.at("swabs").as_array().size(), 1u);
  EXPECT_EQ(json.at("version").to_number<uint64_t>(), 4u);
}

}  // namespace
}  // namespace caseledger::testing
