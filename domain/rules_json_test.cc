// RuleSet::Parse / ToJson, and ClassifyVaccination.
#include "domain/rules.h"
#include "tests/support/build_paths.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

namespace caseledger::domain {
namespace {

namespace json = boost::json;

Date D(std::string_view text) { return *Date::Parse(text); }

// A small valid rule set that the tests below break one field at a time.
constexpr const char* kMinimal = R"({
  "id": "test", "effective_from": "2021-01-01", "title": "t",
  "sources": [{"name": "n", "url": "https://example.org/x"}],
  "measures": [
    {"kind": "isolation", "reasons": ["positive", "symptomatic"], "days": 21,
     "days_with_negative_test": 10},
    {"kind": "quarantine", "reasons": ["close_contact", "travel", "school_class"],
     "vaccination": ["boosted"], "quarantine_required": false, "days": 10,
     "self_monitoring_days": 5, "ffp2_days": 10},
    {"kind": "quarantine", "reasons": ["close_contact", "travel", "school_class"], "days": 14}
  ],
  "school": {"window_days": 5, "infanzia": [], "primaria": [],
             "secondaria": [{"min_positives": 1, "status": "in_presence_with_ffp2", "days": 10}]}
})";

// Parses kMinimal after `edit`, expecting failure; returns the error's field paths.
std::vector<std::string> FieldsOfError(const std::function<void(json::object&)>& edit) {
  json::value doc = json::parse(kMinimal);
  edit(doc.as_object());
  auto set = RuleSet::Parse(json::serialize(doc));
  std::vector<std::string> fields;
  if (set) {
    ADD_FAILURE() << "parsed: " << json::serialize(doc);
    return fields;
  }
  EXPECT_EQ(set.error().code, ErrorCode::kInvalidArgument);
  for (const FieldError& f : set.error().fields) fields.push_back(f.field);
  return fields;
}

using Fields = std::vector<std::string>;

TEST(RuleParseTest, MinimalSetParsesWithDefaults) {
  auto set = RuleSet::Parse(kMinimal);
  ASSERT_TRUE(set) << set.error().message;
  EXPECT_EQ(set->id(), "test");
  EXPECT_EQ(set->title(), "t");
  EXPECT_EQ(set->effective_from(), D("2021-01-01"));
  ASSERT_EQ(set->measures().size(), 3u);
  EXPECT_TRUE(set->measures()[0].quarantine_required);
  EXPECT_EQ(set->measures()[2].max_days, 14);  // defaults to days
  EXPECT_TRUE(set->notes().empty());
}

TEST(RuleParseTest, EveryShippedFileParsesAndRoundTrips) {
  int files = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(caseledger::TestSourceDir() + "/ops/rules")) {
    if (entry.path().extension() != ".json") continue;
    ++files;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    auto set = RuleSet::Parse(text.str());
    ASSERT_TRUE(set) << entry.path() << ": " << set.error().message;
    EXPECT_EQ(set->id() + ".json", entry.path().filename().string());
    EXPECT_EQ(set->effective_from().ToString(), set->id());
    const std::string canonical = set->ToJson();
    auto again = RuleSet::Parse(canonical);
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(*again, *set) << entry.path();
    EXPECT_EQ(again->ToJson(), canonical);
  }
  EXPECT_GE(files, 5);
}

TEST(RuleParseTest, MalformedJsonIsAnErrorOnTheDocument) {
  for (const char* text : {"", "{", "{\"id\": }", "[1, 2]", "42", "{\"id\": \"x\"} trailing"}) {
    auto set = RuleSet::Parse(text);
    ASSERT_FALSE(set) << text;
    ASSERT_EQ(set.error().fields.size(), 1u);
    EXPECT_EQ(set.error().fields[0].field, "$") << text;
  }
}

TEST(RuleParseTest, MissingFieldsAreAllNamed) {
  auto set = RuleSet::Parse("{}");
  ASSERT_FALSE(set);
  Fields fields;
  for (const FieldError& f : set.error().fields) fields.push_back(f.field);
  EXPECT_EQ(fields, (Fields{"id", "effective_from", "title", "sources", "measures", "school"}));
  EXPECT_EQ(set.error().fields[0].message, "required");
}

TEST(RuleParseTest, WrongValuesNameTheirJsonPath) {
  EXPECT_EQ(FieldsOfError([](json::object& o) { o["effective_from"] = "2021-02-30"; }),
            (Fields{"effective_from"}));
  EXPECT_EQ(FieldsOfError([](json::object& o) { o["id"] = "a b"; }), (Fields{"id"}));
  EXPECT_EQ(FieldsOfError(
                [](json::object& o) { o["sources"].as_array()[0].as_object()["url"] = "ftp://x"; }),
            (Fields{"sources[0].url"}));
  EXPECT_EQ(FieldsOfError(
                [](json::object& o) { o["measures"].as_array()[2].as_object()["days"] = "14"; }),
            (Fields{"measures[2].days"}));
  EXPECT_EQ(FieldsOfError([](json::object& o) {
              o["measures"].as_array()[0].as_object()["days_with_negative_test"] = 22;
            }),
            (Fields{"measures[0].days_with_negative_test"}));
  EXPECT_EQ(FieldsOfError([](json::object& o) {
              o["measures"].as_array()[0].as_object()["reasons"] = json::array{"close_contact"};
            }),
            (Fields{"measures[0].reasons[0]"}));
  EXPECT_EQ(FieldsOfError([](json::object& o) {
              o["measures"].as_array()[1].as_object()["vaccination"] = json::array{"triple"};
            }),
            (Fields{"measures[1].vaccination[0]"}));
  EXPECT_EQ(FieldsOfError([](json::object& o) {
              o["measures"].as_array()[1].as_object()["days_with_negative_test"] = 5;
            }),
            (Fields{"measures[1].days_with_negative_test"}));
  EXPECT_EQ(FieldsOfError([](json::object& o) {
              o["school"].as_object()["secondaria"].as_array()[0].as_object()["status"] = "x";
            }),
            (Fields{"school.secondaria[0].status"}));
  EXPECT_EQ(FieldsOfError([](json::object& o) { o["colour"] = "red"; }), (Fields{"colour"}));
  EXPECT_EQ(FieldsOfError([](json::object& o) { o["school"] = 3; }), (Fields{"school"}));
}

TEST(RuleParseTest, ThresholdsMustIncrease) {
  EXPECT_EQ(
      FieldsOfError([](json::object& o) {
        json::array& t = o["school"].as_object()["primaria"].as_array();
        t.push_back(json::parse(R"({"min_positives": 3, "status": "in_presence", "days": 0})"));
        t.push_back(json::parse(R"({"min_positives": 3, "status": "in_presence", "days": 0})"));
      }),
      (Fields{"school.primaria[1].min_positives"}));
}

TEST(RuleParseTest, EveryStatusNeedsARule) {
  // Without the catch-all row, only the boosted have a quarantine rule.
  auto fields = FieldsOfError([](json::object& o) { o["measures"].as_array().pop_back(); });
  EXPECT_EQ(fields.size(), 15u);  // 3 reasons x 5 statuses
  EXPECT_EQ(fields.front(), "measures");
}

TEST(RuleParseTest, EnumNamesRoundTrip) {
  for (int i = 0; i <= static_cast<int>(VaccinationStatus::kRecoveredRecent); ++i) {
    auto v = static_cast<VaccinationStatus>(i);
    EXPECT_EQ(ParseVaccinationStatus(ToString(v)), v);
  }
  for (int i = 0; i <= static_cast<int>(ClassStatus::kInPresenceWithFfp2); ++i) {
    auto s = static_cast<ClassStatus>(i);
    EXPECT_EQ(ParseClassStatus(ToString(s)), s);
  }
  EXPECT_EQ(ParseVaccinationStatus("Boosted"), std::nullopt);
}

// ---- ClassifyVaccination ----

using VS = VaccinationStatus;
const Date kDose2 = D("2021-06-01");

VS Classify(std::vector<Dose> doses, int days_after_dose2,
            std::optional<Date> recovery = std::nullopt) {
  return ClassifyVaccination(doses, recovery, kDose2 + days_after_dose2);
}

TEST(RuleVaccinationTest, PrimaryCycleCountsFrom14DaysAfterDose2) {
  std::vector<Dose> doses{{1, kDose2 + -21}, {2, kDose2}};
  EXPECT_EQ(ClassifyVaccination({}, std::nullopt, kDose2), VS::kUnvaccinated);
  EXPECT_EQ(Classify({{1, kDose2 + -21}}, 0), VS::kPrimaryIncomplete);
  EXPECT_EQ(Classify(doses, 13), VS::kPrimaryIncomplete);
  EXPECT_EQ(Classify(doses, 14), VS::kPrimaryRecent);
}

TEST(RuleVaccinationTest, PrimaryCycleIsRecentUpToDay120) {
  std::vector<Dose> doses{{1, kDose2 + -21}, {2, kDose2}};
  EXPECT_EQ(Classify(doses, 120), VS::kPrimaryRecent);
  EXPECT_EQ(Classify(doses, 121), VS::kPrimaryOld);
}

TEST(RuleVaccinationTest, BoosterCountsFromItsDay) {
  std::vector<Dose> doses{{1, kDose2 + -21}, {2, kDose2}, {3, kDose2 + 150}};
  EXPECT_EQ(Classify(doses, 149), VS::kPrimaryOld);
  EXPECT_EQ(Classify(doses, 150), VS::kBoosted);
}

TEST(RuleVaccinationTest, RecoveryIsRecentUpToDay120) {
  const Date recovered = kDose2 + 10;
  EXPECT_EQ(Classify({}, 130, recovered), VS::kRecoveredRecent);
  EXPECT_EQ(Classify({}, 131, recovered), VS::kUnvaccinated);
  EXPECT_EQ(Classify({}, 9, recovered), VS::kUnvaccinated);  // recovery after `on`
  // An old primary cycle with a recent recovery: the recovery is the better protection.
  EXPECT_EQ(Classify({{2, kDose2}}, 125, kDose2 + 100), VS::kRecoveredRecent);
  // A recent primary cycle wins over a recent recovery (7-day isolation).
  EXPECT_EQ(Classify({{2, kDose2}}, 20, kDose2 + -30), VS::kPrimaryRecent);
}

}  // namespace
}  // namespace caseledger::domain
