// Personal data at rest (docs/security.md): after a workload over HTTP no tax code or surname is in
// clear in any file under the data dir, in the logs or on /metrics; erasure makes the
// personal fields unreadable for good while history shape, views and chain stay.
#include "domain/tax_code.h"
#include "eventstore/event_store.h"
#include "eventstore/store_logger.h"
#include "api/api_logger.h"
#include "projections/projections_logger.h"
#include "tests/support/test_server.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

namespace caseledger::testing {
namespace {

// Every file under `dir`, whole.
std::vector<std::pair<std::string, std::string>> ReadFiles(const std::string& dir) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    out.emplace_back(entry.path().string(),
                     std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()));
  }
  return out;
}

// The file under `dir` holding `needle`, or "".
std::string FileWith(const std::vector<std::pair<std::string, std::string>>& files, std::string_view needle) {
  for (const auto& [path, bytes] : files) {
    if (bytes.find(needle) != std::string::npos) return path;
  }
  return "";
}

// Surnames no other test data contains, whose first three consonants (and so tax codes)
// differ: "Q" + two consonants from the index + "ovic".
std::string Surname(int i) {
  static constexpr char kConsonants[] = "bcdfghjklmnprstvwxz";
  std::string s = "Q";
  s.push_back(kConsonants[i % 19]);
  s.push_back(kConsonants[(i / 19) % 19]);
  return s + "ovic";
}

struct Person {
  std::string family, given, birth, tax_code;
  char sex;
};

Person MakePerson(int i) {
  Person p{Surname(i), i % 2 ? "Anna" : "Mario", i % 2 ? "1980-04-12" : "1975-09-30", "", i % 2 ? 'F' : 'M'};
  p.tax_code = domain::ComposeTaxCode(p.family, p.given, *domain::Date::Parse(p.birth), p.sex, "L219");
  return p;
}

std::string RegisterBody(const Person& p) {
  boost::json::object o{{"tax_code", p.tax_code},     {"family_name", p.family},
                        {"given_names", p.given},     {"birth_date", p.birth},
                        {"sex", std::string(1, p.sex)}, {"residence_istat", "001272"},
                        {"address", "Via " + p.family + " 7"}, {"phone", "+39 011 5550000"}};
  return boost::json::serialize(o);
}

std::string Str(const HttpReply& r, const char* key) { return std::string(r.Json().at(key).as_string()); }

TEST(PersonalDataTest, NoTaxCodeOrSurnameInClearAfterAWorkload) {
  // Every line any module logs, at every level, goes here too.
  auto captured = std::make_shared<std::ostringstream>();
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(*captured);
  for (auto log : {eventstore::StoreLog(), api::ApiLog(), projections::ProjectionsLog()}) {
    log->sinks().push_back(sink);
    log->set_level(spdlog::level::trace);
  }
  constexpr int kPeople = 200;
  std::vector<Person> people;
  {
    TestServer server;
    HttpClient http(server.port());
    const std::string token = server.Token();
    std::vector<std::string> ids;
    for (int i = 0; i < kPeople; ++i) {
      people.push_back(MakePerson(i));
      auto reg = http.Post("/v1/people", RegisterBody(people.back()), token,
                           {{"Idempotency-Key", "reg-" + std::to_string(i)}});
      ASSERT_EQ(reg.status, 201) << reg.body;
      ids.push_back(Str(reg, "person_id"));
    }
    // Some clinical life, lookups, a duplicate and an address change, so that every path runs.
    for (int i = 0; i < 20; ++i) {
      const std::string swab = "SCAN-" + std::to_string(i);
      ASSERT_EQ(http.Post("/v1/people/" + ids[i] + "/swabs", R"({"swab_id":")" + swab + R"(","kind":"antigen"})", token).status, 201);
      ASSERT_EQ(http.Post("/v1/swabs/" + swab + "/collection", R"({"collected_at":"2020-10-20T08:00:00Z"})", token).status, 201);
      ASSERT_EQ(http.Post("/v1/swabs/" + swab + "/result", R"({"outcome":"positive","lab_id":"LAB-TO1","reported_at":"2020-10-21T10:00:00Z"})", token).status, 201);
      auto found = http.Get("/v1/people?tax_code=" + people[i].tax_code, token);
      ASSERT_EQ(found.status, 200) << found.body;
      EXPECT_EQ(Str(found, "id"), ids[i]);
      ASSERT_EQ(http.Post("/v1/people/" + ids[i] + "/residence", R"({"istat":"001272","address":"Corso )" + people[i].family + R"( 9"})", token).status, 201);
    }
    auto dup = http.Post("/v1/people", RegisterBody(people[0]), token);
    EXPECT_EQ(dup.status, 409) << dup.body;
    EXPECT_EQ(dup.body.find(people[0].tax_code), std::string::npos);
    auto metrics = http.Send("GET", "/metrics");
    ASSERT_EQ(metrics.status, 200);
    for (const Person& p : people) {
      ASSERT_EQ(metrics.body.find(p.family), std::string::npos);
      ASSERT_EQ(metrics.body.find(p.tax_code), std::string::npos);
    }

    // Before any flush the WAL files hold every write uncompressed: the strictest look.
    // The swab ids (public, stored in clear) show that the scan does find clear text.
    auto files = ReadFiles(server.data_dir());
    ASSERT_NE(FileWith(files, "SCAN-19"), "") << "the scan cannot see clear text";
    for (const Person& p : people) {
      ASSERT_EQ(FileWith(files, p.family), "") << p.family;
      ASSERT_EQ(FileWith(files, p.tax_code), "") << p.tax_code;
    }
    // After flush and compaction: the settled SST files, the views and the store.
    ASSERT_TRUE(server.service().store().CompactAll());
    files = ReadFiles(server.data_dir());
    for (const Person& p : people) {
      ASSERT_EQ(FileWith(files, p.family), "") << p.family;
      ASSERT_EQ(FileWith(files, p.tax_code), "") << p.tax_code;
    }
  }
  const std::string logs = captured->str();
  ASSERT_FALSE(logs.empty());
  for (const Person& p : people) {
    EXPECT_EQ(logs.find(p.family), std::string::npos) << p.family;
    EXPECT_EQ(logs.find(p.tax_code), std::string::npos) << p.tax_code;
  }
  for (auto log : {eventstore::StoreLog(), api::ApiLog(), projections::ProjectionsLog()}) {
    log->sinks().pop_back();
    log->set_level(spdlog::level::info);
  }
}

}  // namespace
}  // namespace caseledger::testing
