// What-if over a hand-made fixture of Oct-Nov 2020 contacts in Torino and Moncalieri: the
// log holds the 12 Oct 2020 rules; the candidate is the 31 Dec 2021 set re-dated to
// 12 Oct 2020 ("what if the vaccination-aware rules had applied then"). Under it, close
// contacts who are boosted, recently vaccinated (dose 2 at most 120 days before, from its
// 14th day) or recovered at most 120 days before need no quarantine (end = start); the
// others keep 14 days; isolation keeps its 21-day time-alone end. Hand-checked:
//
//   person  who                                   quarantine   12 Oct 2020    31 Dec 2021 as 12 Oct
//   P1      unvaccinated                          from 10-20   11-03          11-03
//   P2      recovered 09-30 (20 days)             from 10-20   11-03          10-20  changes
//   P3      doses 07-01, 08-01 (82 days)          from 10-22   11-05          10-22  changes
//   P4      doses 04-01, 05-01 (188 days: old)    from 11-05   11-19          11-19
//   P5      dose 3 on 10-01 (boosted)             from 11-10   11-24          11-10  changes
//   P6      recovered 09-30, end given 10-30      from 10-21   10-30          10-30
//   P7      recovered 09-30, ended 10-31 by test  from 10-21   10-31 (ended)  10-21  changes
//   P8      boosted, isolation (positive 11-11)   from 11-11   12-02          12-02
//   P9      one dose (incomplete)                 from 10-25   11-08          11-08
//   P10     recovered 06-01 (141 days: not recent) from 10-20  11-03          11-03
//   P11     recovered 09-30, before any rule set  from 10-05   10-19 (+14)    10-19 (no set in force)
//   P12     Moncalieri, recovered 10-10           from 11-15   11-29          11-15  changes
//   P13     unvaccinated, ended 10-30 by test     from 10-20   10-30 (ended)  10-30
//
// Statuses on 2020-10-25: P2, P3, P7 go from quarantine to none. Torino's quarantines
// running on 10-25: P1 P2 P3 P6 P7 P9 P10 P13 = 8 under the log's rules, 5 under the
// candidate; nothing else changes.
#include "replay/rules_log.h"
#include "projections/view_set.h"
#include "replay/what_if.h"

#include "projections/view_runner.h"

#include "projections/views_test_support.h"
#include "tests/support/build_paths.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <map>

namespace caseledger::replay {
namespace {

using namespace caseledger::projections::testing;
using domain::Date;

constexpr const char* kTorino = "001272";
constexpr const char* kMoncalieri = "001156";

std::shared_ptr<const domain::RuleSet> RuleFile(const std::string& id, const char* effective_from = nullptr) {
  std::string text = ReadFile(caseledger::TestSourceDir() + "/ops/rules/" + id + ".json");
  if (effective_from) {
    auto doc = boost::json::parse(text);
    doc.as_object()["effective_from"] = effective_from;
    text = boost::json::serialize(doc);
  }
  auto set = domain::RuleSet::Parse(text);
  if (!set) throw std::runtime_error(set.error().message);
  return std::make_shared<const domain::RuleSet>(std::move(*set));
}

class WhatIfTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(RecordAdoption(log_.store(), *RuleFile("2020-10-12"), {}));
    for (int i = 1; i <= 13; ++i) {
      id_[i] = PersonId(i);
      reg(i, i == 12 ? kMoncalieri : kTorino);
    }
    recovered(2, "2020-09-10", "2020-09-30");
    quarantine(2, 1, "2020-10-20");
    dose(3, 1, "2020-07-01");
    dose(3, 2, "2020-08-01");
    quarantine(3, 1, "2020-10-22");
    dose(4, 1, "2020-04-01");
    dose(4, 2, "2020-05-01");
    quarantine(4, 1, "2020-11-05");
    dose(5, 1, "2020-05-01");
    dose(5, 2, "2020-06-01");
    dose(5, 3, "2020-10-01");
    quarantine(5, 1, "2020-11-10");
    recovered(6, "2020-09-10", "2020-09-30");
    quarantine(6, 1, "2020-10-21", D("2020-10-30"));
    recovered(7, "2020-09-10", "2020-09-30");
    quarantine(7, 1, "2020-10-21");
    ended(7, 1, "2020-10-31");
    for (int d = 1; d <= 3; ++d) dose(8, d, d == 3 ? "2020-10-01" : d == 1 ? "2020-05-01" : "2020-06-01");
    swab_positive(8, "SW-8", "2020-11-11");
    log_.Person(id_[8], {{domain::IsolationOrdered{1, D("2020-11-11"), "positive", {}}, At("2020-11-12", 10)}});
    dose(9, 1, "2020-10-01");
    quarantine(9, 1, "2020-10-25");
    recovered(10, "2020-05-10", "2020-06-01");
    quarantine(10, 1, "2020-10-20");
    recovered(11, "2020-09-10", "2020-09-30");
    quarantine(11, 1, "2020-10-05");
    recovered(12, "2020-09-20", "2020-10-10");
    quarantine(12, 1, "2020-11-15");
    quarantine(1, 1, "2020-10-20");
    quarantine(13, 1, "2020-10-20");
    ended(13, 1, "2020-10-30");
  }

  void reg(int p, const char* istat) {
    log_.Person(id_[p], {{domain::PersonRegistered{id_[p], domain::Sex::kFemale, istat, {}}, At("2020-04-01", 9)}});
  }
  void dose(int p, uint32_t n, const char* day) {
    log_.Person(id_[p], {{domain::VaccinationRecorded{n, D(day), "trial"}, At(day, 10)}});
  }
  void swab_positive(int p, const std::string& swab, const char* day) {
    log_.Person(id_[p], {{domain::SwabRequested{swab, domain::SwabKind::kMolecular, "symptoms", "GP0001", {}}, At(day, 8)},
                         {domain::SwabCollected{swab, At(day, 9), "drive-in", ""}, At(day, 9)},
                         {domain::ResultRecorded{swab, domain::Outcome::kPositive, "LAB01", At(day, 18)}, At(day, 9)}});
  }
  void recovered(int p, const char* positive_on, const char* closed_on) {
    swab_positive(p, "SW-R" + std::to_string(p), positive_on);
    log_.Person(id_[p], {{domain::CaseClosed{domain::CaseOutcome::kRecovered, D(closed_on)}, At(closed_on, 12)}});
  }
  void quarantine(int p, uint32_t m, const char* start, std::optional<Date> end = {}) {
    log_.Person(id_[p], {{domain::QuarantineOrdered{m, D(start), "close_contact", id_[1], end}, At(start, 12)}});
  }
  void ended(int p, uint32_t m, const char* day) {
    log_.Person(id_[p], {{domain::MeasureEnded{m, D(day), domain::MeasureEndReason::kNegativeTest}, At(day, 12)}});
  }

  // The incremental what-if over live views of the log, checked against the full one.
  WhatIfReport Run(std::shared_ptr<const domain::RuleSet> candidate, Date on = D("2020-10-25")) {
    WhatIfOptions o;
    o.work_dir = log_.Path("work");
    std::filesystem::create_directories(o.work_dir);
    o.reference = Reference();
    o.candidate = std::move(candidate);
    o.on = on;
    o.method = WhatIfOptions::Method::kFull;
    auto full = RunWhatIf(log_.store(), o);
    if (!full) throw std::runtime_error(full.error().message);
    if (!live_) {
      auto book = RulesLog::Read(log_.store())->Book();
      projections::RebuildOptions ro;
      ro.path = log_.Path("live");
      ro.rules = book;
      projections::ViewSet set = projections::MakeViewSet({Reference(), book, {}});
      auto runner = projections::Rebuild(log_.store(), std::move(set.views), ro);
      if (!runner) throw std::runtime_error(runner.error().message);
      live_ = std::move(*runner);
      live_views_ = set.typed;
      live_rules_ = book;
    }
    o.method = WhatIfOptions::Method::kIncremental;
    o.live = live_.get();
    o.live_views = live_views_;
    o.live_rules = live_rules_;
    auto incremental = RunWhatIf(log_.store(), o);
    if (!incremental) throw std::runtime_error(incremental.error().message);
    EXPECT_EQ(full->method, "full");
    EXPECT_EQ(incremental->method, "incremental");
    EXPECT_EQ(WhatIfText(*incremental), WhatIfText(*full));
    return *incremental;
  }

  TestLog log_;
  std::map<int, std::string> id_;
  std::unique_ptr<projections::ViewRunner> live_;
  projections::TypedViews live_views_;  // of live_
  std::shared_ptr<const domain::RuleBook> live_rules_;
};

TEST_F(WhatIfTest, DecemberTwentyTwentyOneRulesChangeExactlyTheHandCheckedQuarantineEnds) {
  WhatIfReport r = Run(RuleFile("2021-12-31", "2020-10-12"));
  std::map<std::string, std::pair<std::string, std::string>> ends;
  for (const auto& m : r.measures) {
    EXPECT_EQ(m.kind, "quarantine") << m.person_id;
    EXPECT_EQ(m.measure_id, 1u);
    ASSERT_TRUE(m.end_before && m.end_after) << m.person_id;
    ends[m.person_id] = {m.end_before->ToString(), m.end_after->ToString()};
    EXPECT_EQ(m.rule_set_before, "2020-10-12");
    EXPECT_EQ(m.rule_set_after, "2021-12-31");
  }
  std::map<std::string, std::pair<std::string, std::string>> expected{
      {id_[2], {"2020-11-03", "2020-10-20"}},
      {id_[3], {"2020-11-05", "2020-10-22"}},
      {id_[5], {"2020-11-24", "2020-11-10"}},
      {id_[7], {"2020-10-31", "2020-10-21"}},
      {id_[12], {"2020-11-29", "2020-11-15"}},
  };
  EXPECT_EQ(ends, expected);
  EXPECT_EQ(r.measures.size(), 5u);

  std::map<std::string, std::pair<std::string, std::string>> statuses;
  for (const auto& s : r.statuses) statuses[s.person_id] = {s.before, s.after};
  std::map<std::string, std::pair<std::string, std::string>> expected_statuses{
      {id_[2], {"quarantine", "none"}}, {id_[3], {"quarantine", "none"}}, {id_[7], {"quarantine", "none"}}};
  EXPECT_EQ(statuses, expected_statuses);

  ASSERT_EQ(r.counts.size(), 1u) << WhatIfText(r);
  EXPECT_EQ(r.counts[0].view, "municipalities");
  EXPECT_EQ(r.counts[0].key, kTorino);
  EXPECT_EQ(r.counts[0].field, "active_quarantines");
  EXPECT_EQ(r.counts[0].before, 8);
  EXPECT_EQ(r.counts[0].after, 5);
  EXPECT_EQ(r.people_compared, 13u);
  EXPECT_EQ(r.people_changed(), 5u);
  // Folded again: the people with a measure starting on or after 2020-10-12, where the
  // candidate changes the set in force: all but P11 (quarantined from 10-05).
  EXPECT_EQ(r.people_refolded, 12u);

  boost::json::object json = WhatIfJson(r);
  EXPECT_EQ(json.at("totals").at("measure_ends_changed").to_number<int>(), 5);
  EXPECT_EQ(json.at("candidate").at("effective_from"), "2020-10-12");
  EXPECT_NE(WhatIfText(r).find(id_[12] + "  quarantine #1 from 2020-11-15: 2020-11-29 (2020-10-12) -> 2020-11-15 (2021-12-31)"),
            std::string::npos)
      << WhatIfText(r);
}

TEST_F(WhatIfTest, TheSameRulesChangeNothingAndAFutureSetLeavesThePastAlone) {
  // The log's own set again: identical views.
  WhatIfReport same = Run(RuleFile("2020-10-12"));
  EXPECT_TRUE(same.measures.empty() && same.statuses.empty() && same.counts.empty()) << WhatIfText(same);
  // The December 2021 set at its real date covers no measure of the fixture.
  WhatIfReport later = Run(RuleFile("2021-12-31"));
  EXPECT_TRUE(later.measures.empty() && later.statuses.empty() && later.counts.empty()) << WhatIfText(later);
}

TEST_F(WhatIfTest, ClassStatusesOnTheReferenceDayFollowTheCandidatesSchoolRules) {
  // P8 (positive on 11-11) and P9 are pupils of one primary class. From 11-12 the candidate
  // wants 3 positives for a class quarantine, the log's rules one: on 11-13 the class is
  // back in presence, and P9 (not positive) is no longer quarantined with it. No measure
  // starts on or after 11-12 but P12's (Moncalieri, no school): the school is compared
  // because the rules of the reference day differ, not because of anyone folded again.
  for (int p : {8, 9}) {
    log_.Person(id_[p], {{domain::SchoolEnrolled{"TOEE81201N", "1A", domain::SchoolRole::kStudent}, At("2020-09-14", 8)}});
  }
  WhatIfReport r = Run(RuleFile("2021-12-31", "2020-11-12"), D("2020-11-13"));
  std::map<std::string, std::pair<int64_t, int64_t>> school;
  for (const auto& c : r.counts) {
    if (c.view == "schools" && c.key == "TOEE81201N") school[c.field] = {c.before, c.after};
  }
  std::map<std::string, std::pair<int64_t, int64_t>> expected{{"classes_not_in_presence", {1, 0}},
                                                              {"in_quarantine", {1, 0}}};
  EXPECT_EQ(school, expected) << WhatIfText(r);
  EXPECT_EQ(r.people_refolded, 1u);
}

TEST(RulesLogTest, LaterAdoptionsSupersedeBySameIdOrEffectiveDate) {
  TestLog log;
  auto book_ids = [](const domain::RuleBook& b) {
    std::vector<std::string> ids;
    for (const auto& s : b.sets()) ids.push_back(s.id());
    return ids;
  };
  ASSERT_TRUE(BootstrapRules(log.store(), *Rules()));
  EXPECT_EQ(*BootstrapRules(log.store(), *Rules()), 0u);  // never twice
  auto redated = RuleFile("2021-12-31", "2020-10-12");
  ASSERT_TRUE(RecordAdoption(log.store(), *redated, {}));
  auto rules = RulesLog::Read(log.store());
  ASSERT_TRUE(rules);
  ASSERT_EQ(rules->adoptions().size(), 7u);
  // Same effective date as 2020-10-12, same id as 2021-12-31: both are superseded.
  EXPECT_EQ(rules->adoptions()[0].superseded_at, 7u);
  EXPECT_EQ(rules->adoptions()[1].superseded_at, 7u);
  EXPECT_EQ(book_ids(*rules->Book()),
            (std::vector<std::string>{"2021-12-31", "2022-01-08", "2022-02-04", "2022-04-01", "2022-08-31"}));
  EXPECT_EQ(rules->Book()->InForce(D("2020-11-01"))->effective_from(), D("2020-10-12"));
  // The book as of an earlier position is the one the views had then.
  EXPECT_EQ(book_ids(*rules->Book(6)).front(), "2020-10-12");
  EXPECT_EQ(rules->last_position(), 7u);
}

}  // namespace
}  // namespace caseledger::replay
