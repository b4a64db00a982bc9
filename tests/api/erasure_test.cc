// POST /v1/people/{id}/erasure over HTTP: the key is destroyed, the history keeps its
// shape with "personal": "erased", views and chain are unchanged, the tax-code lookup is
// gone and the tax code may be registered again as a new person.
#include "domain/tax_code.h"
#include "eventstore/event_store.h"
#include "tests/support/test_server.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

namespace caseledger::testing {
namespace {

bool AnyFileContains(const std::string& dir, std::string_view needle) {
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.find(needle) != std::string::npos) return true;
  }
  return false;
}

const std::string kFamily = "Zanzottera";
const std::string kTaxCode = domain::ComposeTaxCode(kFamily, "Ermenegilda", *domain::Date::Parse("1950-01-01"), 'F', "L219");

std::string RegisterBody() {
  boost::json::object o{{"tax_code", kTaxCode},       {"family_name", kFamily},
                        {"given_names", "Ermenegilda"}, {"birth_date", "1950-01-01"},
                        {"sex", "F"},                 {"residence_istat", "001272"},
                        {"address", "Via Po 3"},      {"phone", "+39 011 5550101"}};
  return boost::json::serialize(o);
}

boost::json::array Events(const HttpReply& history) { return history.Json().at("events").as_array(); }

TEST(ErasureTest, DestroysPersonalDataAndKeepsHistoryViewsAndChain) {
  TestServer server;
  HttpClient http(server.port());
  const std::string token = server.Token();
  auto reg = http.Post("/v1/people", RegisterBody(), token);
  ASSERT_EQ(reg.status, 201) << reg.body;
  const std::string id(reg.Json().at("person_id").as_string());
  ASSERT_EQ(http.Post("/v1/people/" + id + "/swabs", R"({"requested_at":"2020-10-01T08:00:00Z","swab_id":"TO-ER-1","kind":"molecular"})", token).status, 201);
  ASSERT_EQ(http.Post("/v1/swabs/TO-ER-1/collection", R"({"lab_id":"LAB-TO1","collected_at":"2020-10-20T08:00:00Z"})", token).status, 201);
  auto result = http.Post("/v1/swabs/TO-ER-1/result", R"({"outcome":"positive","lab_id":"LAB-TO1","reported_at":"2020-10-21T10:00:00Z"})", token);
  ASSERT_EQ(result.status, 201);
  const std::string pos = std::to_string(result.Json().at("position").to_number<uint64_t>());
  const std::string view_target = "/v1/views/municipalities/001272?day=2020-10-21&min_position=";
  auto view_before = http.Get(view_target + pos, token);
  ASSERT_EQ(view_before.status, 200) << view_before.body;
  auto history_before = http.Get("/v1/people/" + id + "/history", token);
  ASSERT_EQ(history_before.status, 200);
  ASSERT_EQ(Events(history_before)[0].at("event").at("personal").at("family_name"), kFamily.c_str());
  ASSERT_EQ(http.Get("/v1/people?tax_code=" + kTaxCode, token).status, 200);

  // A legal reason is required.
  auto missing = http.Post("/v1/people/" + id + "/erasure", "{}", token);
  EXPECT_EQ(missing.status, 400) << missing.body;
  EXPECT_EQ(missing.Header("content-type"), "application/problem+json");
  EXPECT_NE(missing.body.find("legal_reason"), std::string::npos);

  auto erased = http.Post("/v1/people/" + id + "/erasure", R"({"legal_reason":"GDPR art. 17.1.a"})", token);
  ASSERT_EQ(erased.status, 201) << erased.body;
  const std::string erased_pos = std::to_string(erased.Json().at("position").to_number<uint64_t>());

  // History: same events plus the erasure, same hashes, personal fields shown as erased.
  auto history = http.Get("/v1/people/" + id + "/history", token);
  ASSERT_EQ(history.status, 200);
  auto before = Events(history_before), after = Events(history);
  ASSERT_EQ(after.size(), before.size() + 1);
  for (size_t i = 0; i < before.size(); ++i) {
    EXPECT_EQ(after[i].at("hash"), before[i].at("hash"));
    EXPECT_EQ(after[i].at("event").at("type"), before[i].at("event").at("type"));
  }
  EXPECT_EQ(after[0].at("event").at("personal"), "erased");
  EXPECT_EQ(after[0].at("event").at("residence_istat"), "001272");
  EXPECT_EQ(after.back().at("event").at("type"), "PersonalDataErased");
  EXPECT_EQ(history.body.find(kFamily), std::string::npos);
  EXPECT_EQ(history.body.find(kTaxCode), std::string::npos);

  // A past state, as of before the erasure, has nothing personal left either.
  auto past = http.Get("/v1/people/" + id + "?as_of=" + std::string(after[0].at("recorded_at").as_string()), token);
  ASSERT_EQ(past.status, 200) << past.body;
  EXPECT_EQ(past.Json().at("personal").at("erased"), true);
  EXPECT_EQ(past.body.find(kFamily), std::string::npos);

  auto person = http.Get("/v1/people/" + id, token);
  ASSERT_EQ(person.status, 200);
  EXPECT_EQ(person.Json().at("personal").at("erased"), true);
  EXPECT_EQ(person.body.find(kFamily), std::string::npos);
  EXPECT_EQ(person.Json().at("swabs").as_array().size(), 1u);

  // The lookup is gone; the counts are not.
  EXPECT_EQ(http.Get("/v1/people?tax_code=" + kTaxCode, token).status, 404);
  auto view_after = http.Get(view_target + erased_pos, token);
  ASSERT_EQ(view_after.status, 200);
  EXPECT_EQ(view_after.Json().at("new_positives"), view_before.Json().at("new_positives"));
  EXPECT_EQ(view_after.Json().at("cumulative_cases"), view_before.Json().at("cumulative_cases"));

  // No address again, and no second erasure.
  EXPECT_EQ(http.Post("/v1/people/" + id + "/residence", R"({"istat":"001272","address":"Via Nuova 1"})", token).status, 422);
  EXPECT_EQ(http.Post("/v1/people/" + id + "/erasure", R"({"legal_reason":"again"})", token).status, 422);

  // The chain over the sealed bytes still verifies; nothing personal is in the files.
  ASSERT_TRUE(server.service().store().CompactAll());
  eventstore::VerifyOptions vo;
  vo.path = server.data_dir() + "/data/store";
  auto report = eventstore::VerifyStore(vo);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->first_bad_position, 0u) << report->problem;
  EXPECT_FALSE(AnyFileContains(server.data_dir(), kFamily));
  EXPECT_FALSE(AnyFileContains(server.data_dir(), kTaxCode));

  // The tax code is free: registering it again makes a new person, unlinked to the old.
  auto again = http.Post("/v1/people", RegisterBody(), token);
  ASSERT_EQ(again.status, 201) << again.body;
  EXPECT_NE(again.Json().at("person_id"), reg.Json().at("person_id"));
  auto found = http.Get("/v1/people?tax_code=" + kTaxCode, token);
  ASSERT_EQ(found.status, 200);
  EXPECT_EQ(found.Json().at("id"), again.Json().at("person_id"));
}

}  // namespace
}  // namespace caseledger::testing
