// Security audit of 2026-12, findings 5 and 6, against a real server: a swab requested today
// cannot be "collected" on a day of the past, only the laboratory holding a sample reports it,
// and a mayor cannot tell one new case by differencing its town's figures.
#include "domain/tax_code.h"
#include "domain/time.h"
#include "tests/support/test_server.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <chrono>

namespace caseledger::testing {
namespace {

std::string Register(HttpClient& http, const std::string& token, const std::string& family, const std::string& born,
                     const std::string& istat, const std::string& cadastral) {
  std::string tc = domain::ComposeTaxCode(family, "Anna", *domain::Date::Parse(born), 'F', cadastral);
  auto r = http.Post("/v1/people", R"({"tax_code":")" + tc + R"(","family_name":")" + family +
                                       R"(","given_names":"Anna","birth_date":")" + born +
                                       R"(","sex":"F","residence_istat":")" + istat + R"("})",
                     token);
  EXPECT_EQ(r.status, 201) << r.body;
  return r.status == 201 ? std::string(r.Json().at("person_id").as_string()) : "";
}

std::string MinutesAgo(int minutes) {
  auto now = std::chrono::system_clock::now() - std::chrono::minutes(minutes);
  int64_t micros = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  return domain::Timestamp{micros}.ToString();
}

std::string FirstField(const HttpReply& r) {
  auto v = r.Json();
  if (!v.is_object() || !v.as_object().contains("errors")) return "";
  const auto& errors = v.at("errors").as_array();
  return errors.empty() ? "" : std::string(errors[0].at("field").as_string());
}

TEST(RecordIntegrityTest, ASwabRequestedTodayCannotBeCollectedOnADayOfThePast) {
  TestServer server;
  server.Grant("lab-2", "lab", "LAB-TO2");
  HttpClient http(server.port());
  const std::string op = server.Token();
  const std::string id = Register(http, op, "Bruno", "1980-04-02", "001272", "L219");
  ASSERT_EQ(http.Post("/v1/people/" + id + "/swabs", R"({"swab_id":"TO-INT-1","kind":"molecular"})", op).status, 201);
  auto backdated = http.Post("/v1/swabs/TO-INT-1/collection", R"({"collected_at":"2020-03-01T09:00:00Z"})",
                             server.Token("lab-2"));
  EXPECT_EQ(backdated.status, 400) << backdated.body;
  EXPECT_EQ(FirstField(backdated), "collected_at") << backdated.body;
  auto person = http.Get("/v1/people/" + id, op);
  ASSERT_EQ(person.status, 200) << person.body;
  EXPECT_FALSE(person.Json().at("swabs").as_array()[0].at("collected").as_bool()) << "the refusal changed nothing";
  // A time within the skew of the request is a collection, in the collecting lab's name.
  auto collected = http.Post("/v1/swabs/TO-INT-1/collection", R"({"collected_at":")" + MinutesAgo(1) + R"("})",
                             server.Token("lab-2"));
  ASSERT_EQ(collected.status, 201) << collected.body;
  person = http.Get("/v1/people/" + id, op);
  EXPECT_EQ(person.Json().at("swabs").as_array()[0].at("held_by_lab").as_string(), "LAB-TO2");
}

TEST(RecordIntegrityTest, OnlyTheLaboratoryHoldingASampleReportsItAndAHandOverIsAnEvent) {
  TestServer server;
  server.Grant("lab-1", "lab", "LAB-TO1");
  server.Grant("lab-2", "lab", "LAB-TO2");
  HttpClient http(server.port());
  const std::string op = server.Token();
  const std::string id = Register(http, op, "Bruno", "1980-04-02", "001272", "L219");
  ASSERT_EQ(http.Post("/v1/people/" + id + "/swabs",
                      R"({"swab_id":"TO-INT-2","kind":"molecular","requested_at":"2020-10-19T08:00:00Z"})", op)
                .status,
            201);
  ASSERT_EQ(http.Post("/v1/swabs/TO-INT-2/collection", R"({"collected_at":"2020-10-20T09:00:00Z"})",
                      server.Token("lab-2"))
                .status,
            201);
  const std::string result = R"({"outcome":"positive","lab_id":"LAB-TO1","reported_at":"2020-10-21T09:00:00Z"})";
  auto other = http.Post("/v1/swabs/TO-INT-2/result", result, server.Token("lab-1"));
  EXPECT_EQ(other.status, 404) << "a laboratory not holding the sample cannot tell it exists: " << other.body;
  auto handed = http.Post("/v1/swabs/TO-INT-2/handover", R"({"to_lab":"LAB-TO1","at":"2020-10-20T12:00:00Z"})",
                          server.Token("lab-2"));
  ASSERT_EQ(handed.status, 201) << handed.body;
  EXPECT_EQ(http.Post("/v1/swabs/TO-INT-2/result", result, server.Token("lab-1")).status, 201);
  auto history = http.Get("/v1/people/" + id + "/history", op);
  ASSERT_EQ(history.status, 200) << history.body;
  EXPECT_NE(history.body.find("SampleHandedOver"), std::string::npos) << history.body;
}

// The audit's town: Moncenisio, 42 residents. Three cases on 10 October, a fourth on the 12th.
TEST(RecordIntegrityTest, AMayorCannotTellOneNewCaseFromTheCumulativeOfTwoDays) {
  TestServer server;
  server.Grant("mayor-mc", "mayor", "001157");
  HttpClient http(server.port());
  const std::string op = server.Token();
  std::string last;
  for (int i = 0; i < 4; ++i) {
    const std::string day = i < 3 ? "2020-10-10" : "2020-10-12";
    const std::string id =
        Register(http, op, "Bianco", "19" + std::to_string(50 + i) + "-06-1" + std::to_string(i), "001157", "D553");
    const std::string swab = "MC-INT-" + std::to_string(i);
    ASSERT_EQ(http.Post("/v1/people/" + id + "/swabs",
                        R"({"swab_id":")" + swab + R"(","kind":"molecular","requested_at":"2020-10-09T08:00:00Z"})", op)
                  .status,
              201);
    ASSERT_EQ(http.Post("/v1/swabs/" + swab + "/collection",
                        R"({"collected_at":")" + day + R"(T09:00:00Z","lab_id":"LAB-TO1"})", op)
                  .status,
              201);
    auto r = http.Post("/v1/swabs/" + swab + "/result",
                       R"({"outcome":"positive","lab_id":"LAB-TO1","reported_at":")" + day + R"(T18:00:00Z"})", op);
    ASSERT_EQ(r.status, 201) << r.body;
    last = std::to_string(r.Json().at("position").to_number<uint64_t>());
  }
  auto read = [&](const std::string& token, const std::string& day) {
    auto r = http.Get("/v1/views/municipalities/001157?day=" + day + "&min_position=" + last, token);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json().as_object();
  };
  // What the operator sees, and what differencing exact figures would give away.
  EXPECT_EQ(read(op, "2020-10-11").at("cumulative_cases").to_number<int64_t>(), 3);
  EXPECT_EQ(read(op, "2020-10-12").at("cumulative_cases").to_number<int64_t>(), 4);
  EXPECT_EQ(read(op, "2020-10-12").at("new_positives").to_number<int64_t>(), 1);
  // The mayor reads the two days alike: every figure of the 12th is the 11th's.
  const std::string token = server.Token("mayor-mc");
  boost::json::object before = read(token, "2020-10-11"), after = read(token, "2020-10-12");
  for (const char* figure : {"cumulative_cases", "new_positives", "new_positives_7d", "currently_positive",
                             "incidence_7d_per_100k", "active_isolations", "recovered"}) {
    EXPECT_EQ(boost::json::serialize(before.at(figure)), boost::json::serialize(after.at(figure))) << figure;
  }
  EXPECT_EQ(after.at("cumulative_cases").to_number<int64_t>(), 3);
  EXPECT_TRUE(after.at("new_positives").is_null());
  // And its daily series: the 12th's row is the 11th's.
  auto series = http.Get("/v1/views/municipalities/001157?day=2020-10-12&from=2020-10-11&to=2020-10-12&min_position=" +
                             last,
                         token);
  ASSERT_EQ(series.status, 200) << series.body;
  auto rows = series.Json().at("daily").as_array();
  ASSERT_EQ(rows.size(), 2u) << series.body;
  rows[0].as_object().erase("date");
  rows[1].as_object().erase("date");
  EXPECT_EQ(boost::json::serialize(rows[0]), boost::json::serialize(rows[1]));
}

}  // namespace
}  // namespace caseledger::testing
