// The person directory and the effects it computes, driven directly (as the runner does:
// effects from the record before the event, then the event applied to the record).
#include "projections/lab_turnaround.h"
#include "projections/person_directory.h"
#include "projections/views_test_support.h"

#include "domain/person_state_archive.h"
#include "domain/string_archive.h"

#include <gtest/gtest.h>

#include <map>
#include <tuple>

namespace caseledger::projections {
namespace {

using namespace caseledger::projections::testing;
using domain::Date;
using domain::Outcome;
using domain::SwabKind;

class PersonDirectoryTest : public ::testing::Test {
 protected:
  // Applies one event of person 1 and returns its effects.
  std::vector<Effect> Apply(domain::Event event, domain::Timestamp effective) {
    domain::Envelope env;
    env.position = ++position_;
    env.stream = domain::PersonStream(id_);
    env.type = std::string(domain::TypeName(event));
    env.effective_at = effective;
    std::vector<Effect> effects;
    LogEvent probe{env, event, id_};
    directory_.Effects(probe, effects);
    directory_.Apply(LogEvent{env, event, id_, effects});
    for (const Effect& e : effects) net_[{e.metric, e.istat, e.day.ToString()}] += e.delta;
    return effects;
  }
  void Register(const char* istat = "001272") {
    Apply(domain::PersonRegistered{id_, domain::Sex::kMale, istat, {}}, At("2020-10-01", 9));
  }
  void Swab(const char* swab, const char* day, Outcome outcome, const char* reported_day) {
    Apply(domain::SwabRequested{swab, SwabKind::kMolecular, "symptoms", "GP0001", {}}, At(day, 8));
    Apply(domain::SwabCollected{swab, At(day, 9), "site", ""}, At(day, 9));
    Apply(domain::ResultRecorded{swab, outcome, "LAB01", At(reported_day, 9)}, At(day, 9));
  }
  const PersonRecord& Record() { return *directory_.Find(id_); }
  // Sum of the deltas of a metric over every day: what is left of it.
  int64_t Net(Metric m) const {
    int64_t n = 0;
    for (const auto& [k, v] : net_) n += std::get<0>(k) == m ? v : 0;
    return n;
  }
  bool AllNetZero(Metric m) const {
    for (const auto& [k, v] : net_) {
      if (std::get<0>(k) == m && v != 0) return false;
    }
    return true;
  }

  PersonDirectory directory_{Rules()};
  std::string id_ = PersonId(1);
  uint64_t position_ = 0;
  std::map<std::tuple<Metric, std::string, std::string>, int64_t> net_;
};

TEST_F(PersonDirectoryTest, RecordSurvivesEncodeAndLoad) {
  Register();
  Swab("SW-000001", "2020-11-02", Outcome::kPositive, "2020-11-03");
  Apply(domain::IsolationOrdered{1, D("2020-11-02"), "positive", {}}, At("2020-11-02", 0));
  Apply(domain::VaccinationRecorded{1, D("2021-05-01"), "Comirnaty"}, At("2021-05-01", 0));
  Apply(domain::Hospitalized{At("2020-11-04", 9), "H"}, At("2020-11-04", 9));
  std::string bytes = PersonDirectory::Encode(Record());
  PersonDirectory other;
  ASSERT_TRUE(other.Load(id_, bytes));
  EXPECT_EQ(PersonDirectory::Encode(*other.Find(id_)), bytes);
  EXPECT_EQ(other.Find(id_)->swabs, Record().swabs);
  EXPECT_EQ(other.Find(id_)->spells, Record().spells);
  EXPECT_EQ(Record().spells.size(), 2u);  // open case, in hospital
  EXPECT_FALSE(other.Load(id_, bytes.substr(0, bytes.size() - 1)));
  EXPECT_FALSE(other.Load(id_, bytes + "x"));
  EXPECT_FALSE(other.Load(id_, "\x01" + bytes.substr(1)));  // format 1: before the one fold
}

// Encode writes by hand the bytes cereal's binary archive writes for the record (the stored
// format, which Decode reads with cereal): every field, each optional present and absent.
TEST(PersonRecordEncodingTest, TheRecordsBytesAreCerealsBinary) {
  auto cereal = [](const PersonRecord& r) { return std::string(1, '\x02') + domain::EncodeCereal(r); };
  PersonRecord empty;
  EXPECT_EQ(PersonDirectory::Encode(empty), cereal(empty));

  PersonRecord r;
  r.residence_istat = "001272";
  r.gp_id = "GP-a-longer-id-than-fifteen";
  r.enrolments = {{"TOIS00100X", "3B", domain::SchoolRole::kStudent}, {"S2", "", domain::SchoolRole::kStaff}};
  r.doses = {{1, D("2021-04-01")}, {3, D("2021-12-01")}};
  r.hospitalized = true;
  r.in_icu = false;
  r.case_open = true;
  r.last_closure = domain::CaseOutcome::kDeceased;
  r.closed_on = D("2020-12-01");
  r.last_positive = std::nullopt;
  r.measures = {ActiveMeasure{7, true, D("2020-11-02"), D("2020-11-12"), "positive", D("2020-11-12"), "001272",
                              D("2020-11-03")},
                ActiveMeasure{9, false, D("2020-11-05"), std::nullopt, "", D("2020-11-19"), "", D("2020-11-05")}};
  for (int k = 0; k < 11; ++k) {  // past the history's tail: a shared prefix too
    SwabRecord s;
    s.id_hash = SwabIdHash("SW-" + std::to_string(k));
    s.kind = k % 2 ? SwabKind::kAntigen : SwabKind::kMolecular;
    s.collected = k % 3 != 0;
    s.collected_at = 1'600'000'000'000'000 + k;
    s.reported_day = k % 4 ? 18'500 + k : 0;
    s.outcome = k % 4 ? static_cast<uint8_t>(k % 3) : SwabRecord::kNoOutcome;
    r.swabs.push_back(s);
  }
  r.case_reported_on = D("2020-11-03");
  r.case_istat = "001272";
  r.case_test = SwabKind::kAntigen;
  r.spells = {Spell{Metric::kPositive, "001272", D("2020-11-03"), std::nullopt},
              Spell{Metric::kWard, "001001", D("2020-11-04"), D("2020-11-09")}};
  const std::string bytes = PersonDirectory::Encode(r);
  EXPECT_EQ(bytes, cereal(r));
  std::string appended = "prefix";
  PersonDirectory::EncodeTo(r, appended);
  EXPECT_EQ(appended, "prefix" + bytes);
  PersonRecord back;
  ASSERT_TRUE(PersonDirectory::Decode(bytes, back));
  EXPECT_EQ(PersonDirectory::Encode(back), bytes);

  r.last_closure.reset();
  r.closed_on.reset();
  r.last_positive = D("2020-11-02");
  r.case_reported_on.reset();
  EXPECT_EQ(PersonDirectory::Encode(r), cereal(r));
}

TEST_F(PersonDirectoryTest, SwabIdsAreHashedWithAStableFunction) {
  EXPECT_EQ(SwabIdHash("a"), 0xaf63dc4c8601ec8cULL);  // FNV-1a 64 reference value
  EXPECT_NE(SwabIdHash("SW-000001"), SwabIdHash("SW-000002"));
}

TEST_F(PersonDirectoryTest, FollowsTheEpisodeRuleOfTheDomain) {
  Register();
  Swab("SW-000001", "2020-11-02", Outcome::kPositive, "2020-11-03");
  EXPECT_TRUE(Record().case_open);
  EXPECT_EQ(Record().case_reported_on, D("2020-11-03"));
  EXPECT_EQ(Record().last_positive, D("2020-11-02"));
  Apply(domain::CaseClosed{domain::CaseOutcome::kRecovered, D("2020-11-20")}, At("2020-11-20", 0));
  EXPECT_FALSE(Record().case_open);
  EXPECT_TRUE(Record().spells.empty());
  // A positive swab collected before the closure, reported after it, does not reopen it.
  Swab("SW-000002", "2020-11-19", Outcome::kPositive, "2020-11-21");
  EXPECT_FALSE(Record().case_open);
  // One collected after it does (reinfection): a second new positive.
  Swab("SW-000003", "2020-12-20", Outcome::kPositive, "2020-12-21");
  EXPECT_TRUE(Record().case_open);
  EXPECT_EQ(Net(Metric::kNewPositive), 2);
  EXPECT_EQ(Net(Metric::kPositive), 1);
}

TEST_F(PersonDirectoryTest, ACorrectionTakesBackEveryDayTheCaseCounted) {
  // In hospital before the positive; discharged; then the positive is corrected away:
  // neither the case nor its ward days may remain anywhere (a ward day without an open
  // case would make isolamento_domiciliare negative).
  Register();
  Apply(domain::Hospitalized{At("2020-11-01", 9), "H"}, At("2020-11-01", 9));
  Swab("SW-000001", "2020-11-02", Outcome::kPositive, "2020-11-03");
  Apply(domain::ResidenceChanged{"001272", "001156", {}}, At("2020-11-04", 9));
  Apply(domain::IcuAdmitted{At("2020-11-05", 9), "H"}, At("2020-11-05", 9));
  Apply(domain::Discharged{At("2020-11-07", 9), "H"}, At("2020-11-07", 9));
  EXPECT_EQ(Net(Metric::kPositive), 1);
  auto effects = Apply(domain::ResultCorrected{"SW-000001", Outcome::kPositive, Outcome::kNegative, "swap",
                                               "LAB01", At("2020-11-09", 9)},
                       At("2020-11-02", 9));
  EXPECT_FALSE(Record().case_open);
  EXPECT_TRUE(Record().spells.empty());
  for (Metric m : {Metric::kNewPositive, Metric::kPositive, Metric::kWard, Metric::kIcu}) {
    EXPECT_TRUE(AllNetZero(m)) << static_cast<int>(m);
  }
  // The new positive leaves the day and place where it was counted.
  ASSERT_FALSE(effects.empty());
  EXPECT_EQ(effects[0], (Effect{Metric::kNewPositive, D("2020-11-03"), -1, "001272", SwabKind::kMolecular}));
}

TEST_F(PersonDirectoryTest, AResidenceChangeMovesTheRunningPartOfMeasuresAndCase) {
  Register();
  Swab("SW-000001", "2020-11-02", Outcome::kPositive, "2020-11-03");
  Apply(domain::IsolationOrdered{1, D("2020-11-02"), "positive", {}}, At("2020-11-02", 0));
  auto effects = Apply(domain::ResidenceChanged{"001272", "001156", {}}, At("2020-11-06", 9));
  const Date moved = D("2020-11-06"), end = D("2020-11-23");
  std::vector<Effect> expected = {
      {Metric::kPositive, moved, -1, "001272", SwabKind::kMolecular},
      {Metric::kPositive, moved, +1, "001156", SwabKind::kMolecular},
      {Metric::kIsolation, moved, -1, "001272", SwabKind::kMolecular},
      {Metric::kIsolation, end, +1, "001272", SwabKind::kMolecular},
      {Metric::kIsolation, moved, +1, "001156", SwabKind::kMolecular},
      {Metric::kIsolation, end, -1, "001156", SwabKind::kMolecular},
  };
  EXPECT_EQ(effects, expected);
  EXPECT_EQ(Record().measures.at(0).istat, "001156");
  EXPECT_EQ(Record().measures.at(0).since, moved);
}

TEST_F(PersonDirectoryTest, MeasureEndsComeFromTheRuleSetInForceOnTheStart) {
  Register();
  auto end_of = [&](bool isolation, const char* start) {
    uint32_t id = static_cast<uint32_t>(Record().measures.size()) + 100;
    if (isolation) {
      Apply(domain::IsolationOrdered{id, D(start), "positive", {}}, At(start, 0));
    } else {
      Apply(domain::QuarantineOrdered{id, D(start), "close_contact", "", {}}, At(start, 0));
    }
    return Record().FindMeasure(id)->end;
  };
  EXPECT_EQ(end_of(true, "2020-04-01"), D("2020-04-15"));   // no rule set yet: 14 days
  EXPECT_EQ(end_of(true, "2020-11-02"), D("2020-11-23"));   // 12 Oct 2020: 21 days
  EXPECT_EQ(end_of(false, "2020-11-02"), D("2020-11-16"));  // 12 Oct 2020: 14 days
  EXPECT_EQ(end_of(false, "2022-01-10"), D("2022-01-24"));  // 31 Dec 2021, unvaccinated: 14
  EXPECT_EQ(end_of(true, "2022-09-05"), D("2022-09-19"));   // 31 Aug 2022: 14 days at most
  EXPECT_EQ(end_of(false, "2022-04-05"), D("2022-04-05"));  // 1 Apr 2022: no quarantine
  // Boosted on the start day: self-monitoring only under the 31 Dec 2021 rules.
  Apply(domain::VaccinationRecorded{1, D("2021-05-01"), "Comirnaty"}, At("2021-05-01", 0));
  Apply(domain::VaccinationRecorded{2, D("2021-06-01"), "Comirnaty"}, At("2021-06-01", 0));
  Apply(domain::VaccinationRecorded{3, D("2021-12-01"), "Comirnaty"}, At("2021-12-01", 0));
  EXPECT_EQ(end_of(false, "2022-01-10"), D("2022-01-10"));
}

TEST_F(PersonDirectoryTest, WithoutARuleBookEveryMeasureRunsFourteenDays) {
  directory_ = PersonDirectory();
  Register();
  Apply(domain::IsolationOrdered{1, D("2020-11-02"), "positive", {}}, At("2020-11-02", 0));
  EXPECT_EQ(Record().FindMeasure(1)->end, D("2020-11-16"));
  Apply(domain::QuarantineOrdered{2, D("2020-11-02"), "close_contact", "", D("2020-11-05")}, At("2020-11-02", 0));
  EXPECT_EQ(Record().FindMeasure(2)->end, D("2020-11-05"));  // a given end wins
}

TEST_F(PersonDirectoryTest, EventsTheRecordCannotExplainAreReported) {
  Register();
  domain::Envelope env;
  env.position = 9;
  domain::Event result = domain::ResultRecorded{"SW-999999", Outcome::kPositive, "LAB01", At("2020-11-03", 9)};
  std::vector<Effect> out;
  EXPECT_THROW(directory_.Effects(LogEvent{env, result, id_}, out), std::runtime_error);
  std::string stranger = PersonId(2);
  EXPECT_THROW(directory_.Effects(LogEvent{env, result, stranger}, out), std::runtime_error);
}

TEST(LabTurnaroundTest, BucketsGrowWithTheDelayAndQuantilesReadTheirLimits) {
  EXPECT_EQ(TurnaroundBucket(-5), 0);
  EXPECT_EQ(TurnaroundBucket(29), 0);
  EXPECT_EQ(TurnaroundBucket(30), 1);
  EXPECT_EQ(TurnaroundBucketLimit(0), 30);
  EXPECT_EQ(TurnaroundBucketLimit(TurnaroundBucket(6 * 60)), 7 * 60);
  EXPECT_EQ(TurnaroundBucketLimit(TurnaroundBucket(47 * 60 + 59)), 48 * 60);
  EXPECT_EQ(TurnaroundBucketLimit(TurnaroundBucket(48 * 60)), 51 * 60);
  EXPECT_EQ(TurnaroundBucketLimit(TurnaroundBucket(13 * 24 * 60)), 13 * 24 * 60 + 12 * 60);
  EXPECT_EQ(TurnaroundBucket(400 * 24 * 60), kTurnaroundBuckets - 1);
  EXPECT_EQ(TurnaroundBucketLimit(kTurnaroundBuckets - 1), 14 * 24 * 60);
  std::array<int64_t, kTurnaroundBuckets> h{};
  EXPECT_FALSE(TurnaroundQuantile(h, 0.5));
  h[TurnaroundBucket(10)] = 9;        // nine in the first half hour
  h[TurnaroundBucket(30 * 60)] = 1;   // one after 30 hours
  EXPECT_EQ(TurnaroundQuantile(h, 0.5), 30);
  EXPECT_EQ(TurnaroundQuantile(h, 0.9), 30);
  EXPECT_EQ(TurnaroundQuantile(h, 1.0), 31 * 60);
}

}  // namespace
}  // namespace caseledger::projections

namespace caseledger::projections {
namespace {

// The cache: least recently touched batches go first, down to 7/8 of the budget; a record
// forgotten is loaded back exactly as it was.
TEST(PersonDirectoryCacheTest, EvictsTheLeastRecentlyTouchedAndLoadsBack) {
  PersonDirectory d(testing::Rules());
  auto registered = [](int n) {
    PersonRecord r;
    r.residence_istat = "001272";
    r.gp_id = "GP" + std::to_string(n);
    return PersonDirectory::Encode(r);
  };
  for (int batch = 0; batch < 16; ++batch) {
    d.BeginBatch();
    ASSERT_TRUE(d.Load(testing::PersonId(batch), registered(batch)));
  }
  d.BeginBatch();
  EXPECT_NE(d.Touch(testing::PersonId(0)), nullptr);  // the oldest, used again
  EXPECT_EQ(d.Touch(testing::PersonId(99)), nullptr);
  EXPECT_EQ(d.Evict(0), 0u);   // no limit
  EXPECT_EQ(d.Evict(16), 0u);  // within the budget
  EXPECT_EQ(d.Evict(8), 9u);   // down to 7: 0 and 10..15 stay
  EXPECT_EQ(d.size(), 7u);
  EXPECT_NE(d.Find(testing::PersonId(0)), nullptr);
  EXPECT_EQ(d.Find(testing::PersonId(1)), nullptr);
  EXPECT_EQ(d.Find(testing::PersonId(9)), nullptr);
  ASSERT_NE(d.Find(testing::PersonId(10)), nullptr);
  EXPECT_EQ(d.Find(testing::PersonId(15))->gp_id, "GP15");
  EXPECT_EQ(d.Evict(1), 6u);  // the most recent stays
  EXPECT_NE(d.Find(testing::PersonId(0)), nullptr);
  d.BeginBatch();
  for (int n = 20; n < 23; ++n) ASSERT_TRUE(d.Load(testing::PersonId(n), registered(n)));
  EXPECT_EQ(d.Evict(2), 4u);  // a batch's records share a stamp: they go together
  EXPECT_EQ(d.size(), 0u);
  ASSERT_TRUE(d.Load(testing::PersonId(1), registered(1)));
  EXPECT_EQ(PersonDirectory::Encode(*d.Find(testing::PersonId(1))), registered(1));
  EXPECT_FALSE(d.Load(testing::PersonId(2), "\x02garbage"));
}

// A person is listed for writing once until their entry is written (MarkUnwritten after
// Step, TakeToWrite when writing), and again after it: the batch pipeline writes exactly
// the people it listed.
TEST(PersonDirectoryCacheTest, APersonIsMarkedUnwrittenOnceUntilWritten) {
  PersonDirectory d(testing::Rules());
  const std::string id = testing::PersonId(1), stranger = testing::PersonId(2);
  uint64_t position = 0;
  auto step = [&](const std::string& person, domain::Event event) {
    domain::Envelope env;
    env.position = ++position;
    env.stream = domain::PersonStream(person);
    env.effective_at = testing::At("2020-10-01", 9);
    std::shared_ptr<const PersonRecord> before;
    std::vector<Effect> effects;
    return d.Step(LogEvent{env, event, person}, before, effects);
  };
  const domain::Event registered = domain::PersonRegistered{id, domain::Sex::kMale, "001272", {}};
  const domain::Event moved = domain::ResidenceChanged{"001272", "001219", {}};
  ASSERT_TRUE(step(id, registered));
  EXPECT_TRUE(d.MarkUnwritten());
  ASSERT_TRUE(step(id, moved));
  EXPECT_FALSE(d.MarkUnwritten());  // listed already
  const std::vector<std::string> listed{id, stranger};
  std::vector<PersonDirectory::ToWrite> written;
  d.TakeToWrite(listed, written);
  ASSERT_EQ(written.size(), 1u) << "the stranger is not cached";
  EXPECT_EQ(written[0].id, id);
  EXPECT_EQ(written[0].record, d.Find(id));
  ASSERT_TRUE(step(id, domain::ResidenceChanged{"001219", "001272", {}}));
  EXPECT_TRUE(d.MarkUnwritten());  // written since: listed again
  EXPECT_FALSE(d.MarkUnwritten());
}

// A fold's change of a person is kept on their entry, whether or not they are listed
// already, until the entry is written: a fold's Persist writes from it (view.h).
TEST(PersonDirectoryCacheTest, AFoldsChangeIsMarkedUntilTheEntryIsWritten) {
  PersonDirectory d(testing::Rules());
  d.SetFolds(2);
  const std::string id = testing::PersonId(1);
  uint64_t position = 0;
  auto step = [&](domain::Event event) {
    domain::Envelope env;
    env.position = ++position;
    env.stream = domain::PersonStream(id);
    env.effective_at = testing::At("2020-10-01", 9);
    std::shared_ptr<const PersonRecord> before;
    std::vector<Effect> effects;
    return d.Step(LogEvent{env, event, id}, before, effects);
  };
  auto take = [&] {
    std::vector<PersonDirectory::ToWrite> written;
    d.TakeToWrite(id, written);
    if (written.size() != 1) throw std::logic_error("the person is not cached");
    return written[0];
  };
  ASSERT_TRUE(step(domain::PersonRegistered{id, domain::Sex::kMale, "001272", {}}));
  EXPECT_TRUE(d.MarkUnwritten());
  EXPECT_EQ(take().folds_changed, 0u) << "the record changed, no fold";
  ASSERT_TRUE(step(domain::ResidenceChanged{"001272", "001219", {}}));
  EXPECT_TRUE(d.MarkUnwritten());  // written since: listed again
  ASSERT_TRUE(step(domain::ResidenceChanged{"001219", "001272", {}}));
  EXPECT_FALSE(d.MarkUnwritten(0b10u));  // listed already, marked all the same
  const PersonDirectory::ToWrite entry = take();
  EXPECT_FALSE(entry.FoldChanged(0));
  EXPECT_TRUE(entry.FoldChanged(1));
  EXPECT_EQ(entry.states.size(), 2u);
  EXPECT_EQ(take().folds_changed, 0u) << "written: the mark is cleared";
  d.MarkFoldsChanged(id, 0b01u);
  EXPECT_TRUE(take().FoldChanged(0));
}

}  // namespace
}  // namespace caseledger::projections
