// The shipped Italian rule sets (ops/rules/*.json), with end dates computed by hand.
#include "domain/rules.h"
#include "tests/support/build_paths.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace caseledger::domain {
namespace {

Date D(std::string_view text) { return *Date::Parse(text); }

std::string LoadText(const std::string& id) {
  std::ifstream in(std::string(caseledger::TestSourceDir() + "/ops/rules/") + id + ".json");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

RuleSet Load(const std::string& id) {
  auto set = RuleSet::Parse(LoadText(id));
  if (!set) ADD_FAILURE() << id << ": " << set.error().message;
  return std::move(set).value();
}

MeasurePlan Quarantine(const RuleSet& set, std::string_view start, VaccinationStatus v,
                       std::string reason = "close_contact") {
  return set.Plan({MeasureKind::kQuarantine, D(start), std::move(reason), v});
}
MeasurePlan Isolation(const RuleSet& set, std::string_view start, VaccinationStatus v,
                      std::string reason = "positive") {
  return set.Plan({MeasureKind::kIsolation, D(start), std::move(reason), v});
}
ClassDecision Class(const RuleSet& set, std::string level, int positives) {
  return set.DecideClass({std::move(level), positives, D("2022-01-01")});
}

using VS = VaccinationStatus;

TEST(RuleSetTest, ContactQuarantineIs14DaysUnderOctober2020Rules) {
  RuleSet set = Load("2020-10-12");
  EXPECT_EQ(set.id(), "2020-10-12");
  EXPECT_EQ(set.effective_from(), D("2020-10-12"));
  for (const char* reason : {"close_contact", "travel", "school_class"}) {
    MeasurePlan p = Quarantine(set, "2020-10-20", VS::kUnvaccinated, reason);
    EXPECT_TRUE(p.quarantine_required);
    EXPECT_EQ(p.end, D("2020-11-03")) << reason;
    EXPECT_EQ(p.release_with_test_from, D("2020-10-30")) << reason;
    EXPECT_EQ(p.max_end, D("2020-11-03"));
    EXPECT_EQ(p.self_monitoring_days, 0);
    EXPECT_EQ(p.rule_set_id, "2020-10-12");
  }
  // No vaccines in 2020: the status changes nothing.
  EXPECT_EQ(Quarantine(set, "2020-10-20", VS::kBoosted).release_with_test_from, D("2020-10-30"));
}

TEST(RuleSetTest, IsolationIs10DaysPlusTestOr21UnderOctober2020Rules) {
  RuleSet set = Load("2020-10-12");
  for (const char* reason : {"positive", "symptomatic"}) {
    MeasurePlan p = Isolation(set, "2020-11-02", VS::kUnvaccinated, reason);
    EXPECT_EQ(p.release_with_test_from, D("2020-11-12")) << reason;
    EXPECT_EQ(p.end, D("2020-11-23")) << reason;  // long-term positive: 21 days
    EXPECT_EQ(p.max_end, D("2020-11-23"));
  }
}

TEST(RuleSetTest, December2021IsolationIs7DaysForBoostedAnd10ForOthers) {
  RuleSet set = Load("2021-12-31");
  EXPECT_EQ(Isolation(set, "2022-01-03", VS::kBoosted).release_with_test_from, D("2022-01-10"));
  EXPECT_EQ(Isolation(set, "2022-01-03", VS::kPrimaryRecent).release_with_test_from,
            D("2022-01-10"));
  for (VS v : {VS::kUnvaccinated, VS::kPrimaryIncomplete, VS::kPrimaryOld, VS::kRecoveredRecent}) {
    MeasurePlan p = Isolation(set, "2022-01-03", v, "symptomatic");
    EXPECT_EQ(p.release_with_test_from, D("2022-01-13")) << ToString(v);
    EXPECT_EQ(p.max_end, D("2022-01-24"));
  }
}

TEST(RuleSetTest, December2021ContactsDependOnVaccinationStatus) {
  RuleSet set = Load("2021-12-31");
  for (VS v : {VS::kUnvaccinated, VS::kPrimaryIncomplete}) {
    MeasurePlan p = Quarantine(set, "2022-01-03", v);
    EXPECT_TRUE(p.quarantine_required);
    EXPECT_EQ(p.release_with_test_from, D("2022-01-13")) << ToString(v);
    EXPECT_EQ(p.end, D("2022-01-17"));
  }
  MeasurePlan old = Quarantine(set, "2022-01-03", VS::kPrimaryOld);
  EXPECT_TRUE(old.quarantine_required);
  EXPECT_EQ(old.release_with_test_from, D("2022-01-08"));
  for (VS v : {VS::kBoosted, VS::kPrimaryRecent, VS::kRecoveredRecent}) {
    MeasurePlan p = Quarantine(set, "2022-01-03", v);
    EXPECT_FALSE(p.quarantine_required) << ToString(v);
    EXPECT_FALSE(p.release_with_test_from);
    EXPECT_EQ(p.self_monitoring_days, 5);
    EXPECT_EQ(p.ffp2_days, 10);
    EXPECT_EQ(p.end, D("2022-01-13"));
  }
}

TEST(RuleSetTest, February2022ContactsQuarantine5DaysUnlessProtected) {
  RuleSet set = Load("2022-02-04");
  for (VS v : {VS::kUnvaccinated, VS::kPrimaryIncomplete, VS::kPrimaryOld}) {
    MeasurePlan p = Quarantine(set, "2022-02-10", v);
    EXPECT_TRUE(p.quarantine_required);
    EXPECT_EQ(p.release_with_test_from, D("2022-02-15")) << ToString(v);
    EXPECT_EQ(p.ffp2_days, 10);
  }
  for (VS v : {VS::kBoosted, VS::kPrimaryRecent, VS::kRecoveredRecent}) {
    MeasurePlan p = Quarantine(set, "2022-02-10", v);
    EXPECT_FALSE(p.quarantine_required) << ToString(v);
    EXPECT_EQ(p.self_monitoring_days, 5);
    EXPECT_EQ(p.end, D("2022-02-20"));
  }
  EXPECT_EQ(Isolation(set, "2022-02-10", VS::kBoosted).release_with_test_from, D("2022-02-17"));
  EXPECT_EQ(Isolation(set, "2022-02-10", VS::kPrimaryOld).release_with_test_from, D("2022-02-20"));
}

TEST(RuleSetTest, NoContactQuarantineFromApril2022) {
  RuleSet set = Load("2022-04-01");
  for (VS v : {VS::kUnvaccinated, VS::kPrimaryOld, VS::kBoosted}) {
    for (const char* reason : {"close_contact", "travel", "school_class"}) {
      MeasurePlan p = Quarantine(set, "2022-04-05", v, reason);
      EXPECT_FALSE(p.quarantine_required) << ToString(v) << " " << reason;
      EXPECT_EQ(p.self_monitoring_days, 10);
      EXPECT_EQ(p.ffp2_days, 10);
      EXPECT_EQ(p.end, D("2022-04-15"));
    }
  }
  EXPECT_EQ(Isolation(set, "2022-04-05", VS::kBoosted).release_with_test_from, D("2022-04-12"));
  EXPECT_EQ(Isolation(set, "2022-04-05", VS::kUnvaccinated).release_with_test_from,
            D("2022-04-15"));
}

TEST(RuleSetTest, August2022IsolationIs5DaysPlusTestAnd14AtMost) {
  RuleSet set = Load("2022-08-31");
  for (VS v : {VS::kUnvaccinated, VS::kBoosted}) {
    MeasurePlan p = Isolation(set, "2022-09-01", v);
    EXPECT_EQ(p.release_with_test_from, D("2022-09-06")) << ToString(v);
    EXPECT_EQ(p.end, D("2022-09-15"));
    EXPECT_EQ(p.max_end, D("2022-09-15"));
  }
  EXPECT_FALSE(Quarantine(set, "2022-09-01", VS::kUnvaccinated).quarantine_required);
}

TEST(RuleSetTest, UnknownOrMismatchedReasonUsesTheKindDefault) {
  RuleSet set = Load("2021-12-31");
  EXPECT_EQ(Quarantine(set, "2022-01-03", VS::kPrimaryOld, "").release_with_test_from,
            D("2022-01-08"));
  EXPECT_EQ(Isolation(set, "2022-01-03", VS::kBoosted, "close_contact").release_with_test_from,
            D("2022-01-10"));
}

TEST(RuleSetTest, OnePositiveQuarantinesTheClassUnderOctober2020Rules) {
  RuleSet set = Load("2020-10-12");
  EXPECT_EQ(Class(set, "primaria", 0).status, ClassStatus::kInPresence);
  ClassDecision d = Class(set, "secondaria", 1);
  EXPECT_EQ(d.status, ClassStatus::kClassQuarantine);
  EXPECT_EQ(d.days, 14);
  EXPECT_EQ(d.days_with_negative_test, 10);
}

TEST(RuleSetTest, SchoolThresholdsByLevelUnderDl1And5Of2022) {
  RuleSet jan = Load("2022-01-08");
  EXPECT_EQ(Class(jan, "infanzia", 1).status, ClassStatus::kClassQuarantine);
  EXPECT_EQ(Class(jan, "primaria", 1).status, ClassStatus::kInPresence);
  EXPECT_EQ(Class(jan, "primaria", 2).status, ClassStatus::kDistanceLearning);
  EXPECT_EQ(Class(jan, "secondaria", 1).status, ClassStatus::kInPresenceWithFfp2);
  EXPECT_EQ(Class(jan, "secondaria", 3).days, 10);

  RuleSet feb = Load("2022-02-04");
  EXPECT_EQ(feb.class_window_days(), 5);
  EXPECT_EQ(Class(feb, "infanzia", 4).status, ClassStatus::kInPresenceWithFfp2);
  ClassDecision suspended = Class(feb, "infanzia", 5);
  EXPECT_EQ(suspended.status, ClassStatus::kClassQuarantine);
  EXPECT_EQ(suspended.days, 5);
  EXPECT_EQ(Class(feb, "primaria", 4).status, ClassStatus::kInPresenceWithFfp2);
  EXPECT_EQ(Class(feb, "primaria", 4).days, 10);
  EXPECT_EQ(Class(feb, "primaria", 5).status, ClassStatus::kDistanceLearning);
  EXPECT_EQ(Class(feb, "secondaria", 1).status, ClassStatus::kInPresenceWithFfp2);
  EXPECT_EQ(Class(feb, "secondaria", 2).status, ClassStatus::kDistanceLearning);
  EXPECT_EQ(Class(feb, "secondaria", 2).days, 5);
  EXPECT_EQ(Class(feb, "nido", 9).status, ClassStatus::kInPresence);  // unknown level
}

TEST(RuleSetTest, NoClassQuarantineFromApril2022) {
  RuleSet apr = Load("2022-04-01");
  for (const char* level : {"infanzia", "primaria", "secondaria"}) {
    EXPECT_EQ(Class(apr, level, 3).status, ClassStatus::kInPresence) << level;
    ClassDecision d = Class(apr, level, 4);
    EXPECT_EQ(d.status, ClassStatus::kInPresenceWithFfp2) << level;
    EXPECT_EQ(d.days, 10);
    EXPECT_EQ(Class(Load("2022-08-31"), level, 20).status, ClassStatus::kInPresence);
  }
}

const char* kIds[] = {"2020-10-12", "2021-12-31", "2022-01-08",
                      "2022-02-04", "2022-04-01", "2022-08-31"};

RuleBook LoadBook() {
  RuleBook book;
  // Added out of order on purpose: the book orders them.
  for (int i : {3, 0, 5, 1, 4, 2}) EXPECT_TRUE(book.Add(Load(kIds[i])));
  return book;
}

TEST(RuleBookTest, InForcePicksTheLastSetOnBoundaryDays) {
  RuleBook book = LoadBook();
  ASSERT_EQ(book.sets().size(), 6u);
  for (size_t i = 0; i < 6; ++i) EXPECT_EQ(book.sets()[i].id(), kIds[i]);
  EXPECT_EQ(book.InForce(D("2020-10-11")), nullptr);
  const std::pair<const char*, const char*> cases[] = {
      {"2020-10-12", "2020-10-12"}, {"2021-12-30", "2020-10-12"}, {"2021-12-31", "2021-12-31"},
      {"2022-01-07", "2021-12-31"}, {"2022-01-08", "2022-01-08"}, {"2022-02-03", "2022-01-08"},
      {"2022-02-04", "2022-02-04"}, {"2022-03-31", "2022-02-04"}, {"2022-04-01", "2022-04-01"},
      {"2022-08-30", "2022-04-01"}, {"2022-08-31", "2022-08-31"}, {"2025-01-01", "2022-08-31"}};
  for (const auto& [day, id] : cases) {
    const RuleSet* set = book.InForce(D(day));
    ASSERT_NE(set, nullptr) << day;
    EXPECT_EQ(set->id(), id) << day;
  }
}

TEST(RuleBookTest, SameContactGetsThePlanOfTheSetInForce) {
  RuleBook book = LoadBook();
  auto release = [&](const char* day) {
    return book.InForce(D(day))->Plan(
        {MeasureKind::kQuarantine, D(day), "close_contact", VS::kPrimaryOld});
  };
  EXPECT_EQ(release("2021-12-30").release_with_test_from, D("2022-01-09"));
  EXPECT_EQ(release("2021-12-31").release_with_test_from, D("2022-01-05"));
  EXPECT_FALSE(release("2022-04-01").quarantine_required);
}

TEST(RuleBookTest, RejectsDuplicateIdOrEffectiveDate) {
  RuleBook book;
  ASSERT_TRUE(book.Add(Load("2020-10-12")));
  auto same_id = book.Add(Load("2020-10-12"));
  ASSERT_FALSE(same_id);
  EXPECT_EQ(same_id.error().code, ErrorCode::kConflict);

  std::string text = LoadText("2020-10-12");
  const std::string id = "\"id\": \"2020-10-12\"";
  text.replace(text.find(id), id.size(), "\"id\": \"other\"");
  auto other = RuleSet::Parse(text);
  ASSERT_TRUE(other) << other.error().message;
  auto same_day = book.Add(std::move(*other));
  ASSERT_FALSE(same_day);
  EXPECT_EQ(same_day.error().code, ErrorCode::kConflict);
  EXPECT_EQ(book.sets().size(), 1u);
}

}  // namespace
}  // namespace caseledger::domain
