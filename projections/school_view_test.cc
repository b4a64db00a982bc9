// The school view driven directly: events built here, applied to the view and then to a
// person directory (as the runner does), with hand-checked counts and class statuses.
#include "projections/school_view.h"

#include "projections/person_directory.h"
#include "projections/runner_test_support.h"
#include "projections/views_test_support.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <vector>

namespace caseledger::projections {
namespace {

using domain::Date;
using domain::Timestamp;
using testing::At;  // the projections' test support (views_test_support.h)
using testing::D;
namespace json = boost::json;

class MemorySink final : public PersistSink {
 public:
  void Put(std::string_view key, std::string_view value) override {
    entries[std::string(key)] = std::string(value);
    ++puts;
    order.emplace_back(key);
  }
  void Delete(std::string_view key) override {
    entries.erase(std::string(key));
    order.emplace_back(key);
  }
  std::map<std::string, std::string> entries;
  int puts = 0;
  std::vector<std::string> order;  // keys put or deleted, in order
};

// Ids as the API makes them: 26-character ULIDs.
std::string Person(int n) {
  std::string id = "01HF000000000000000000000";
  return id + static_cast<char>('A' + n);
}

constexpr const char* kSchool = "TOEE81201N";  // a primary school

class SchoolViewTest : public ::testing::Test {
 protected:
  void Append(std::string_view person, domain::Event event, Timestamp effective) {
    domain::Envelope env;
    env.position = ++position_;
    env.stream = person.empty() ? domain::SchoolStream(kSchool) : domain::PersonStream(person);
    env.type = std::string(domain::TypeName(event));
    env.effective_at = effective;
    env.recorded_at = effective;
    LogEvent e{env, event, person};
    const PersonRecord* before = directory_.Find(person);
    view_.Apply(e, before, sink_);
    // As the batch pipeline hands it the record: whole only where it says it reads it.
    const bool reads = before != nullptr && lean_.ReadsRecord(e, *before);
    read_ += reads ? 1 : 0;
    if (before != nullptr && !reads) gp_only_.gp_id = before->gp_id;
    lean_.Apply(e, before != nullptr && !reads ? &gp_only_ : before, lean_sink_);
    if (!person.empty()) directory_.Apply(e);
  }
  void Register(const std::string& p) {
    Append(p, domain::PersonRegistered{p, domain::Sex::kFemale, "001272", {}}, At("2020-09-01", 9));
  }
  void Enrol(const std::string& p, const char* cls, domain::SchoolRole role, const char* day) {
    Append(p, domain::SchoolEnrolled{kSchool, cls, role}, At(day, 8));
  }
  // A swab requested and collected on `day`, with a positive result reported the next day.
  void Positive(const std::string& p, const std::string& swab, const char* day) {
    Append(p, domain::SwabRequested{swab, domain::SwabKind::kMolecular, "symptoms", "MMG0001", {}},
           At(day, 8));
    Append(p, domain::SwabCollected{swab, At(day, 9), "drive-in", ""}, At(day, 9));
    Timestamp reported{At(day, 9).micros + 24 * 3'600'000'000LL};
    Append(p, domain::ResultRecorded{swab, domain::Outcome::kPositive, "LAB01", reported},
           At(day, 9));
  }
  // Class 3B: three students and a teacher.
  void ClassOf3B(const char* day) {
    for (int i = 0; i < 4; ++i) {
      Register(Person(i));
      Enrol(Person(i), "3B", i < 3 ? domain::SchoolRole::kStudent : domain::SchoolRole::kStaff,
            day);
    }
  }
  // The end of a batch, as the runner does it: write what changed, then publish.
  void Commit() {
    view_.Persist(sink_);
    view_.Publish(position_);
  }
  json::object Class(const char* day, const char* label = "3B") {
    Commit();
    auto school = SchoolJson(view_, kSchool, D(day));
    if (!school) return {};
    for (const json::value& c : school->at("classes").as_array()) {
      if (c.at("class") == label) return c.as_object();
    }
    return {};
  }

  std::shared_ptr<const domain::RuleBook> rules_ = testing::Rules();
  SchoolView view_{rules_};
  PersonDirectory directory_{rules_};
  MemorySink sink_;
  uint64_t position_ = 0;
  // The same events, each with the whole record only where ReadsRecord says the view reads
  // it, else a record holding the GP alone (BatchPipeline's Slot::record).
  SchoolView lean_{rules_};
  MemorySink lean_sink_;
  PersonRecord gp_only_;
  int read_ = 0;  // events lean_ was given the whole record for
};

TEST_F(SchoolViewTest, OnePositiveStudentQuarantinesTheClassUnderOctober2020Rules) {
  ClassOf3B("2020-10-15");
  Positive(Person(0), "SW-000001", "2020-10-20");

  json::object c = Class("2020-10-21");
  EXPECT_EQ(c.at("level"), "primaria");
  EXPECT_EQ(c.at("students"), 3);
  EXPECT_EQ(c.at("staff"), 1);
  EXPECT_EQ(c.at("positive"), 1);
  EXPECT_EQ(c.at("positives_in_window"), 1);
  EXPECT_EQ(c.at("status"), "class_quarantine");
  EXPECT_EQ(c.at("status_source"), "rules");
  // 14 days from the positive swab, or 10 with a negative test.
  EXPECT_EQ(c.at("status_until"), "2020-11-03");
  EXPECT_EQ(c.at("release_with_test_from"), "2020-10-30");
  EXPECT_EQ(c.at("in_quarantine"), 2);  // the two other students; the teacher is not

  EXPECT_EQ(Class("2020-10-19").at("status"), "in_presence");  // before the swab
  EXPECT_EQ(Class("2020-11-02").at("status"), "class_quarantine");
  EXPECT_EQ(Class("2020-11-03").at("status"), "in_presence");
  EXPECT_EQ(Class("2020-11-03").at("in_quarantine"), 0);
  // The 14-day window: the swab day and the 13 days after it.
  EXPECT_EQ(Class("2020-11-02").at("positives_in_window"), 1);
  EXPECT_EQ(Class("2020-11-03").at("positives_in_window"), 0);
}

TEST_F(SchoolViewTest, OnePositiveStudentLeavesTheClassInPresenceUnderApril2022Rules) {
  ClassOf3B("2022-04-01");
  Positive(Person(0), "SW-000001", "2022-04-05");

  json::object c = Class("2022-04-06");
  EXPECT_EQ(c.at("status"), "in_presence");
  EXPECT_EQ(c.at("positive"), 1);
  EXPECT_EQ(c.at("positives_in_window"), 1);
  EXPECT_EQ(c.at("in_quarantine"), 0);
  EXPECT_EQ(SchoolJson(view_, kSchool, D("2022-04-06"))->at("rule_set"), "2022-04-01");
}

TEST_F(SchoolViewTest, FourPositivesInFiveDaysMeanFfp2ForTenDaysUnderApril2022Rules) {
  for (int i = 0; i < 5; ++i) {
    Register(Person(i));
    Enrol(Person(i), "2A", domain::SchoolRole::kStudent, "2022-04-01");
  }
  Positive(Person(0), "SW-000001", "2022-04-04");
  Positive(Person(1), "SW-000002", "2022-04-06");
  Positive(Person(2), "SW-000003", "2022-04-06");
  EXPECT_EQ(Class("2022-04-07", "2A").at("status"), "in_presence");  // three in the window
  Positive(Person(3), "SW-000004", "2022-04-08");

  json::object c = Class("2022-04-08", "2A");
  EXPECT_EQ(c.at("positives_in_window"), 4);  // 04-04..04-08 is the 5-day window
  EXPECT_EQ(c.at("status"), "in_presence_with_ffp2");
  EXPECT_EQ(c.at("status_until"), "2022-04-18");
  EXPECT_EQ(Class("2022-04-17", "2A").at("status"), "in_presence_with_ffp2");
  EXPECT_EQ(Class("2022-04-18", "2A").at("status"), "in_presence");
}

TEST_F(SchoolViewTest, ExplicitClassQuarantineWinsWhileItRuns) {
  ClassOf3B("2020-10-15");
  Append("", domain::ClassQuarantineOrdered{"3B", D("2020-11-09"), "cluster", std::nullopt},
         At("2020-11-09", 0));

  json::object c = Class("2020-11-10");
  EXPECT_EQ(c.at("status"), "class_quarantine");
  EXPECT_EQ(c.at("status_source"), "order");
  EXPECT_EQ(c.at("status_until"), "2020-11-23");  // the rule set's class days: 14
  EXPECT_EQ(c.at("release_with_test_from"), "2020-11-19");
  EXPECT_EQ(c.at("in_quarantine"), 3);
  EXPECT_EQ(Class("2020-11-23").at("status"), "in_presence");
  EXPECT_EQ(Class("2020-11-08").at("status"), "in_presence");

  Append("", domain::ClassQuarantineOrdered{"3B", D("2020-12-01"), "cluster", D("2020-12-04")},
         At("2020-12-01", 0));
  EXPECT_EQ(Class("2020-12-03").at("status_until"), "2020-12-04");
  EXPECT_TRUE(Class("2020-12-03").at("release_with_test_from").is_null());
  EXPECT_EQ(Class("2020-12-04").at("status"), "in_presence");
}

TEST_F(SchoolViewTest, AStudentLeavingMovesOutOfTheClassCounts) {
  ClassOf3B("2020-10-15");
  Positive(Person(0), "SW-000001", "2020-10-20");
  Append(Person(0), domain::SchoolLeft{kSchool, "3B", domain::SchoolRole::kStudent},
         At("2020-10-22", 8));
  Enrol(Person(0), "3C", domain::SchoolRole::kStudent, "2020-10-22");

  json::object b = Class("2020-10-23");
  EXPECT_EQ(b.at("students"), 2);
  EXPECT_EQ(b.at("positive"), 0);
  EXPECT_EQ(b.at("status"), "in_presence");  // the positive pupil is no longer in 3B
  json::object c = Class("2020-10-23", "3C");
  EXPECT_EQ(c.at("students"), 1);
  EXPECT_EQ(c.at("positive"), 1);  // brought along from the person directory
  EXPECT_EQ(c.at("status"), "class_quarantine");
  EXPECT_EQ(c.at("in_quarantine"), 0);
}

TEST_F(SchoolViewTest, PersonalQuarantineCountsUntilItEnds) {
  ClassOf3B("2020-10-15");
  Append(Person(3),
         domain::QuarantineOrdered{1, D("2020-10-20"), "close_contact", "", std::nullopt},
         At("2020-10-20", 0));
  EXPECT_EQ(Class("2020-10-21").at("in_quarantine"), 1);  // the teacher
  Append(Person(3),
         domain::MeasureEnded{1, D("2020-10-30"), domain::MeasureEndReason::kNegativeTest},
         At("2020-10-30", 0));
  EXPECT_EQ(Class("2020-10-31").at("in_quarantine"), 0);
}

TEST_F(SchoolViewTest, PersonalQuarantineIsOverOnItsEndDay) {
  ClassOf3B("2020-10-15");
  Append(Person(3),
         domain::QuarantineOrdered{1, D("2020-10-20"), "close_contact", "", std::nullopt},
         At("2020-10-20", 0));
  EXPECT_EQ(Class("2020-11-02").at("in_quarantine"), 1);
  EXPECT_EQ(Class("2020-11-03").at("in_quarantine"), 0);  // 14 days by the 12 Oct 2020 rules
}

TEST_F(SchoolViewTest, ACorrectedPositiveNoLongerCounts) {
  ClassOf3B("2020-10-15");
  Positive(Person(0), "SW-000001", "2020-10-20");
  Append(Person(0), domain::ResultCorrected{"SW-000001", domain::Outcome::kPositive,
                                            domain::Outcome::kNegative, "sample swap", "LAB01",
                                            At("2020-10-22", 10)},
         At("2020-10-20", 9));
  json::object c = Class("2020-10-22");
  EXPECT_EQ(c.at("positive"), 0);
  EXPECT_EQ(c.at("positives_in_window"), 0);
  EXPECT_EQ(c.at("status"), "in_presence");
}

TEST_F(SchoolViewTest, ClosedCaseIsNoLongerPositive) {
  ClassOf3B("2020-10-15");
  Positive(Person(1), "SW-000001", "2020-10-20");
  Append(Person(1), domain::CaseClosed{domain::CaseOutcome::kRecovered, D("2020-11-02")},
         At("2020-11-02", 0));
  json::object c = Class("2020-11-02");
  EXPECT_EQ(c.at("positive"), 0);
  EXPECT_EQ(c.at("in_quarantine"), 3);  // the class quarantine still runs until 11-03
}

TEST_F(SchoolViewTest, LoadOfThePersistedEntriesReproducesTheSameJson) {
  ClassOf3B("2020-10-15");
  Register(Person(5));
  Enrol(Person(5), "1A", domain::SchoolRole::kStudent, "2020-10-15");
  Positive(Person(0), "SW-000001", "2020-10-20");
  Append("", domain::ClassQuarantineOrdered{"1A", D("2020-10-21"), "cluster", std::nullopt},
         At("2020-10-21", 0));
  Commit();
  ASSERT_EQ(sink_.entries.size(), 2u);
  EXPECT_TRUE(sink_.entries.contains(std::string(kSchool) + "/3B"));

  SchoolView restored(rules_);
  for (const auto& [key, value] : sink_.entries) ASSERT_TRUE(restored.Load(key, value)) << key;
  restored.Publish(position_);
  EXPECT_TRUE(restored.ChangedKeys().empty());
  for (const char* day : {"2020-10-21", "2020-10-28", "2020-11-05"}) {
    EXPECT_EQ(json::serialize(*SchoolJson(restored, kSchool, D(day))),
              json::serialize(*SchoolJson(view_, kSchool, D(day))));
  }
  EXPECT_FALSE(restored.Load(std::string(kSchool) + "/3B", "\x01garbage"));
  EXPECT_FALSE(restored.Load("no-slash", sink_.entries.begin()->second));
}

TEST_F(SchoolViewTest, ChangedKeysNameTheSchoolsTouchedUntilPublish) {
  ClassOf3B("2020-10-15");
  EXPECT_EQ(view_.ChangedKeys(), std::vector<std::string>{kSchool});
  Commit();
  EXPECT_TRUE(view_.ChangedKeys().empty());
  Append(Person(0), domain::ContactReported{Person(1), D("2020-10-16")}, At("2020-10-16", 0));
  EXPECT_TRUE(view_.ChangedKeys().empty());  // nothing the school sees
}

TEST_F(SchoolViewTest, ReadersSeeOnlyPublishedState) {
  EXPECT_FALSE(SchoolJson(view_, kSchool, D("2020-10-21")).has_value());
  ClassOf3B("2020-10-15");
  EXPECT_FALSE(SchoolJson(view_, kSchool, D("2020-10-21")).has_value());
  Commit();
  auto school = SchoolJson(view_, kSchool, D("2020-10-21"));
  ASSERT_TRUE(school.has_value());
  EXPECT_EQ(school->at("position"), position_);
  EXPECT_EQ(school->at("totals").at("students"), 3);
  EXPECT_EQ(json::serialize(*school).find(Person(0)), std::string::npos);  // no person ids
}

TEST_F(SchoolViewTest, AClassIsWrittenOncePerBatchAndForgottenByReset) {
  ClassOf3B("2020-10-15");  // 8 events, four of them changing class 3B
  EXPECT_TRUE(sink_.entries.empty());  // nothing written before the end of the batch
  Commit();
  EXPECT_EQ(sink_.puts, 1);
  EXPECT_TRUE(sink_.entries.contains(std::string(kSchool) + "/3B"));
  Append(Person(0), domain::SchoolLeft{kSchool, "3B", domain::SchoolRole::kStudent},
         At("2020-10-16", 8));
  for (int i = 1; i < 4; ++i) {
    Append(Person(i), domain::SchoolLeft{kSchool, "3B", domain::SchoolRole::kStudent},
           At("2020-10-16", 8));
  }
  Commit();
  EXPECT_TRUE(sink_.entries.empty());  // the emptied class is deleted
  EXPECT_FALSE(SchoolJson(view_, kSchool, D("2020-10-16")).has_value());

  ClassOf3B("2020-10-17");
  Commit();
  ASSERT_TRUE(view_.Reset());
  view_.Publish(position_);
  EXPECT_FALSE(SchoolJson(view_, kSchool, D("2020-10-17")).has_value());
  EXPECT_EQ(view_.position(), position_);
}

// The pipeline keeps a copy of a person's record for an event only where a view reads it
// (View::ReadsRecord), and the partition then copies the record at the person's next
// change: of a pupil's events the school view reads the record of its enrolment, results,
// corrections, quarantines, measures ended and closures, not of their swab requests and
// collections, doses or isolations, and its classes come out the same.
TEST_F(SchoolViewTest, APupilsRecordIsReadOnlyForTheEventsThatChangeTheirClasses) {
  ClassOf3B("2020-10-15");  // 4 enrolments read the record
  EXPECT_EQ(read_, 4);
  read_ = 0;
  Append(Person(0), domain::VaccinationRecorded{1, D("2020-10-16"), "Comirnaty"}, At("2020-10-16", 8));
  Append(Person(1), domain::ContactReported{Person(2), D("2020-10-16")}, At("2020-10-16", 9));
  Append(Person(2), domain::IsolationOrdered{1, D("2020-10-17"), "symptoms", std::nullopt}, At("2020-10-17", 8));
  EXPECT_EQ(read_, 0);
  Positive(Person(0), "SW-000001", "2020-10-20");  // request, collection: no; result: yes
  EXPECT_EQ(read_, 1);
  Append(Person(1), domain::QuarantineOrdered{1, D("2020-10-21"), "close_contact", "", std::nullopt},
         At("2020-10-21", 0));
  Append(Person(1), domain::MeasureEnded{1, D("2020-10-25"), domain::MeasureEndReason::kNegativeTest},
         At("2020-10-25", 0));
  Append(Person(0), domain::ResultCorrected{"SW-000001", domain::Outcome::kPositive, domain::Outcome::kNegative,
                                            "sample swap", "LAB01", At("2020-10-26", 10)},
         At("2020-10-20", 9));
  Positive(Person(3), "SW-000002", "2020-10-27");
  Append(Person(3), domain::CaseClosed{domain::CaseOutcome::kRecovered, D("2020-11-05")}, At("2020-11-05", 0));
  EXPECT_EQ(read_, 6);
  Append(Person(2), domain::SchoolLeft{kSchool, "3B", domain::SchoolRole::kStudent}, At("2020-11-06", 8));
  Enrol(Person(2), "4A", domain::SchoolRole::kStudent, "2020-11-06");
  Register(Person(6));  // not enrolled: nothing read
  Append(Person(6), domain::QuarantineOrdered{1, D("2020-11-06"), "close_contact", "", std::nullopt},
         At("2020-11-06", 0));
  EXPECT_EQ(read_, 7);  // the enrolment

  view_.Persist(sink_);
  lean_.Persist(lean_sink_);
  EXPECT_EQ(lean_sink_.entries, sink_.entries);
  view_.Publish(position_);
  lean_.Publish(position_);
  for (const char* day : {"2020-10-21", "2020-10-23", "2020-10-28", "2020-11-06"}) {
    for (const char* school : {kSchool}) {
      EXPECT_EQ(json::serialize(*SchoolJson(lean_, school, D(day))), json::serialize(*SchoolJson(view_, school, D(day))))
          << day;
    }
  }
}

// Persist writes the classes in key order, whatever order they changed in: the writer's
// batch is then a sorted run it need not sort and rewrite (ViewsDb::Batch::Sort).
TEST_F(SchoolViewTest, ClassesAreWrittenInKeyOrder) {
  const char* labels[] = {"5C", "1A", "3B", "2D", "4A"};
  for (int i = 0; i < 5; ++i) {
    Register(Person(i));
    Enrol(Person(i), labels[i], domain::SchoolRole::kStudent, "2020-10-15");
  }
  sink_.order.clear();
  Commit();
  ASSERT_EQ(sink_.order.size(), 5u);
  EXPECT_TRUE(std::is_sorted(sink_.order.begin(), sink_.order.end()));
  EXPECT_EQ(sink_.order.front(), std::string(kSchool) + "/1A");
}

TEST(SchoolLevelTest, ComesFromTheSchoolTypeAndForAnIcFromTheClassYear) {
  EXPECT_EQ(domain::SchoolLevel("TOAA81201N", "1A"), "infanzia");
  EXPECT_EQ(domain::SchoolLevel("TOEE81201N", "5A"), "primaria");
  EXPECT_EQ(domain::SchoolLevel("TOMM81201N", "2A"), "secondaria");
  EXPECT_EQ(domain::SchoolLevel("TOPS05000A", "4B"), "secondaria");
  EXPECT_EQ(domain::SchoolLevel("TOIC81200X", "2A"), "primaria");
  EXPECT_EQ(domain::SchoolLevel("TOIC81200X", "7A"), "secondaria");
}

// The real runner: batches of 3 written to the views database, reopened from it, and a
// rebuild in one batch, all answer the same.
TEST(SchoolViewRunnerTest, LiveReopenedAndRebuiltViewsAnswerTheSame) {
  testing::TestLog log;
  for (int n = 0; n < 6; ++n) {
    const std::string p = Person(n), swab = "SW-00000" + std::to_string(n);
    const auto role = n == 5 ? domain::SchoolRole::kStaff : domain::SchoolRole::kStudent;
    log.Person(
        p, {{domain::PersonRegistered{p, domain::Sex::kFemale, "001272", {}}, At("2020-10-01", 8)},
            {domain::SchoolEnrolled{kSchool, n < 3 ? "3B" : "4A", role}, At("2020-10-01", 8)}});
    if (n == 0 || n == 3) {
      log.Person(p,
                 {{domain::SwabRequested{swab, domain::SwabKind::kMolecular, "symptoms", "MMG0001", {}},
                   At("2020-10-20", 8)},
                  {domain::SwabCollected{swab, At("2020-10-20", 9), "site", ""}, At("2020-10-20", 9)}});
      log.Person(
          p,
          {{domain::ResultRecorded{swab, domain::Outcome::kPositive, "LAB01", At("2020-10-21", 9)},
            At("2020-10-20", 9)}});
    }
  }
  log.Append(domain::SchoolStream(kSchool),
             {{domain::ClassQuarantineOrdered{"4A", D("2020-11-09"), "cluster", {}},
               At("2020-11-09", 0)}});
  log.Person(Person(1), {{domain::SchoolLeft{kSchool, "3B", domain::SchoolRole::kStudent},
                          At("2020-10-25", 8)}});
  auto views = [] {
    std::vector<std::unique_ptr<View>> v;
    v.push_back(std::make_unique<SchoolView>(testing::Rules()));
    return v;
  };
  auto dump = [](const ViewRunner& r) {
    std::string out;
    for (const char* day : {"2020-10-19", "2020-10-21", "2020-10-26", "2020-11-10"}) {
      out += json::serialize(*SchoolJson(*r.Get<SchoolView>("schools"), kSchool, D(day)));
    }
    return out;
  };
  const std::string live = testing::ExpectLiveReopenedAndRebuiltAgree(log, views, dump);
  EXPECT_NE(live.find(R"("classes_not_in_presence":2)"), std::string::npos);
}

}  // namespace
}  // namespace caseledger::projections
