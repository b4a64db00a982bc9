// Random valid histories (commands decided by domain::Decide on states folded here, fixed
// seeds): the views fed live while the log grows equal a from-scratch rebuild, and so do
// views stopped twice on the way and reopened; their stored entries are byte-identical;
// and the region's levels agree with the domain's own person states.
#include "domain/person.h"
#include "projections/gp_view.h"
#include "projections/school_view.h"
#include "projections/views_db.h"
#include "projections/cross_history_test_support.h"
#include "projections/runner_test_support.h"
#include "projections/views_test_support.h"

#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <random>

namespace caseledger::projections {
namespace {

using namespace caseledger::projections::testing;
using domain::Date;
using domain::Timestamp;

constexpr const char* kResidences[] = {"001272", "001156", "005005", "004078", "003106", "015146"};

// Histories of people alone (no school streams), every kind of measure end and ICU stay.
class History final : public DecidedHistory {
 public:
  explicit History(uint64_t seed) : DecidedHistory(seed, 50, 8, 30) {}

 private:
  domain::RegisterPerson Registration() override {
    return {"", "Rossi", "Anna", D("1980-05-01"), domain::Sex::kFemale, kResidences[Roll(6)], "", ""};
  }

  std::optional<domain::PersonCommand> Command(const domain::PersonState& p) override {
    const Date today = now_.ToDate();
    int r = Roll(100);
    using namespace domain;
    if (r < 20) return RequestSwab{"SW-" + std::to_string(++swabs_), Roll(3) ? SwabKind::kMolecular : SwabKind::kAntigen, "", "", {}};
    if (r < 38) {
      if (auto* s = Pick(p.swabs, [](const SwabState& s) { return !s.collected; })) return CollectSwab{s->swab_id, now_, "site", Roll(2) ? "LAB01" : "LAB-TO2"};
      return std::nullopt;
    }
    if (r < 58) {
      if (auto* s = Pick(p.swabs, [](const SwabState& s) { return s.collected && !s.outcome; })) {
        int o = Roll(20);
        return RecordResult{s->swab_id, o < 6 ? Outcome::kPositive : o < 19 ? Outcome::kNegative : Outcome::kInconclusive,
                            s->holder_lab, now_};
      }
      return std::nullopt;
    }
    if (r < 61) {
      if (auto* s = Pick(p.swabs, [](const SwabState& s) { return s.outcome.has_value(); })) {
        Outcome o = *s->outcome == Outcome::kPositive ? Outcome::kNegative : Outcome::kPositive;
        return CorrectResult{s->swab_id, o, "lab error", ""};
      }
      return std::nullopt;
    }
    if (r < 69) return OrderIsolation{p.last_positive.value_or(today + -Roll(3)), Roll(4) ? "positive" : "symptomatic",
                                      Roll(8) ? std::nullopt : std::optional<Date>(today + 5)};
    if (r < 74) return OrderQuarantine{today + -Roll(4), "close_contact", "", std::nullopt};
    if (r < 81) {
      if (auto* m = Pick(p.measures, [](const MeasureState& m) { return m.active(); })) {
        return EndMeasure{m->id, std::max(m->start, today + -Roll(3)),
                          Roll(2) ? MeasureEndReason::kNegativeTest : MeasureEndReason::kElapsed};
      }
      return std::nullopt;
    }
    if (r < 84) return Hospitalize{now_, "H1"};
    if (r < 86) return AdmitToIcu{now_, "H1"};
    if (r < 89) return Discharge{now_, "H1"};
    if (r < 95) return CloseCase{Roll(8) ? CaseOutcome::kRecovered : CaseOutcome::kDeceased, today};
    if (r < 97) return ChangeResidence{kResidences[Roll(6)], ""};
    if (r < 98) return AssignGp{"GP" + std::to_string(1000 + Roll(5))};
    if (r < 99) return EnrolInSchool{"TOEE81201N", "3B", SchoolRole::kStudent};
    return RecordVaccination{static_cast<uint32_t>(p.doses.size() + 1), today, "Comirnaty"};
  }
};

class PropertyTest : public ::testing::TestWithParam<uint64_t> {};

TEST_P(PropertyTest, LiveViewsEqualRebuiltViewsAndTheDomain) {
  TestLog log;
  History history(GetParam());
  history.Run(5000);
  auto open = [&](const std::string& name, uint64_t until, size_t batch,
                  std::vector<std::unique_ptr<View>> views = MakeViews(), bool read_ahead = false) {
    RunnerOptions o;
    o.read_ahead = read_ahead;
    o.path = log.Path(name);
    o.rules = Rules();
    o.until = until;
    o.max_batch = batch;
    auto r = ViewRunner::Open(log.store(), std::move(views), o);
    EXPECT_TRUE(r) << r.error().message;
    return r ? std::move(*r) : nullptr;
  };

  auto live = open("live", 0, 16);
  ASSERT_TRUE(live);
  live->Start();
  AppendConcurrently(log, history.appends(), 8);
  const uint64_t last = log.store().CommittedPosition();
  ASSERT_EQ(last, history.events());
  ASSERT_TRUE(live->WaitForPosition(last, std::chrono::seconds(60))) << live->failure();
  live->Stop();

  std::vector<Date> days;
  for (Date d = D("2020-10-13"); d <= history.today() + 30; d = d + 11) days.push_back(d);
  days.push_back(history.today() + 60);
  const std::string expected = DumpViews(*live, days);

  RebuildOptions ro;
  ro.path = log.Path("rebuilt");
  ro.rules = Rules();
  ro.max_batch = 1000;
  ASSERT_TRUE(ro.read_ahead);  // a rebuild reads ahead; the live runner above did not
  auto rebuilt = Rebuild(log.store(), MakeViews(), ro);
  ASSERT_TRUE(rebuilt) << rebuilt.error().message;
  EXPECT_EQ((*rebuilt)->Position(), last);
  EXPECT_EQ(DumpViews(**rebuilt, days), expected);

  // Died in the middle of a batch, reopened with healthy views, continued.
  {
    auto views = MakeViews();
    views[0] = std::make_unique<CrashingView>(std::move(views[0]), static_cast<int>(last / 2));
    auto crashed = open("crashed", 0, 50, std::move(views));
    ASSERT_TRUE(crashed);
    ASSERT_FALSE(crashed->CatchUp());
    EXPECT_EQ(crashed->failed_position(), last / 2);
    EXPECT_EQ(crashed->Position(), (last / 2 - 1) / 50 * 50);  // the batches before it
  }
  {
    auto reopened = open("crashed", 0, 50);
    ASSERT_TRUE(reopened);
    EXPECT_EQ(reopened->Position(), (last / 2 - 1) / 50 * 50);
    ASSERT_TRUE(reopened->CatchUp());
    EXPECT_EQ(DumpViews(*reopened, days), expected);
  }

  // Stopped twice on the way (between batches), reopened, continued.
  for (uint64_t until : {last / 3, 2 * last / 3, uint64_t{0}}) {
    auto r = open("restarted", until, 7);
    ASSERT_TRUE(r);
    ASSERT_TRUE(r->CatchUp());
    EXPECT_EQ(r->Position(), until ? until : last);
    if (until == 0) {
      EXPECT_EQ(DumpViews(*r, days), expected);
    }
  }

  // Read ahead in small batches, stopped on the way and reopened.
  for (uint64_t until : {last / 2, uint64_t{0}}) {
    auto r = open("read-ahead", until, 9, MakeViews(), true);
    ASSERT_TRUE(r);
    ASSERT_TRUE(r->CatchUp());
    EXPECT_EQ(r->Position(), until ? until : last);
  }

  // The region's levels against the domain's person states.
  const Date end = days.back();
  auto region = (*rebuilt)->Get<RegionView>("region")->Series("", end, {end, end}).value().at(0);
  int64_t open_cases = 0, ward = 0, icu = 0, deceased = 0, swabs = 0, tested = 0;
  for (const auto& p : history.people()) {
    open_cases += p.case_open;
    ward += p.case_open && p.hospitalized && !p.in_icu;
    icu += p.case_open && p.in_icu;
    deceased += p.deceased();
    int collected = 0;
    for (const auto& s : p.swabs) collected += s.collected;
    swabs += collected;
    tested += collected > 0;
    auto found = (*rebuilt)->FindPerson(p.person_id);
    ASSERT_TRUE(found && *found) << p.person_id;
    const PersonRecord* rec = &**found;
    EXPECT_EQ(rec->case_open, p.case_open) << p.person_id;
    EXPECT_EQ(rec->residence_istat, p.residence_istat);
    EXPECT_EQ(rec->last_positive, p.last_positive);
    EXPECT_EQ(rec->hospitalized, p.hospitalized);
    EXPECT_EQ(rec->deceased(), p.deceased());
    size_t active = 0;
    for (const auto& m : p.measures) active += m.active();
    EXPECT_EQ(rec->measures.size(), active);
  }
  EXPECT_EQ(region.totale_positivi, open_cases);
  EXPECT_EQ(region.ricoverati_con_sintomi, ward);
  EXPECT_EQ(region.terapia_intensiva, icu);
  EXPECT_EQ(region.deceduti, deceased);
  EXPECT_EQ(region.tamponi, swabs);
  EXPECT_EQ(region.casi_testati, tested);
  EXPECT_EQ(region.totale_casi, region.totale_positivi + region.dimessi_guariti + region.deceduti);
  EXPECT_GT(region.totale_casi, 20);  // the history is not trivial
  std::cout << "seed " << GetParam() << ": " << last << " events, " << history.people().size()
            << " people, " << region.tamponi << " swabs, " << region.totale_casi << " cases, "
            << region.dimessi_guariti << " recovered, " << region.deceduti << " deceased, "
            << open_cases << " open\n";
  EXPECT_GE(region.isolamento_domiciliare, 0);

  // No level is ever negative, on any day, anywhere.
  const Date start = D("2020-10-13");
  std::vector<std::string> areas = {""};
  for (const auto& asl : Reference()->asls()) areas.push_back(asl.code);
  for (const std::string& area : areas) {
    auto rows = (*rebuilt)->Get<RegionView>("region")->Series(area, end, {start, end});
    ASSERT_TRUE(rows);
    for (const DpcRow& row : *rows) {
      ASSERT_GE(row.totale_positivi, 0) << area << " " << row.day.ToString();
      ASSERT_GE(row.ricoverati_con_sintomi, 0) << area << " " << row.day.ToString();
      ASSERT_GE(row.terapia_intensiva, 0) << area << " " << row.day.ToString();
      ASSERT_GE(row.isolamento_domiciliare, 0) << area << " " << row.day.ToString();
    }
  }
  const auto* municipalities = (*rebuilt)->Get<MunicipalityView>("municipalities");
  for (const char* istat : kResidences) {
    for (Date d = start; d <= end; d = d + 1) {
      auto f = municipalities->FiguresOn(istat, d).value();
      ASSERT_GE(f.currently_positive, 0) << istat << " " << d.ToString();
      ASSERT_GE(f.active_isolations, 0) << istat << " " << d.ToString();
      ASSERT_GE(f.active_quarantines, 0) << istat << " " << d.ToString();
    }
    // Every measure is over by its planned end.
    EXPECT_EQ(municipalities->FiguresOn(istat, end + 400)->active_isolations, 0);
    EXPECT_EQ(municipalities->FiguresOn(istat, end + 400)->active_quarantines, 0);
  }

  // What the three runners stored is the same, byte for byte.
  live.reset();
  rebuilt->reset();
  auto stored = Stored(log.Path("live"));
  EXPECT_GT(stored.size(), 100u);
  EXPECT_TRUE(stored == Stored(log.Path("rebuilt")));
  EXPECT_TRUE(stored == Stored(log.Path("restarted")));
  EXPECT_TRUE(stored == Stored(log.Path("crashed")));
  EXPECT_TRUE(stored == Stored(log.Path("read-ahead")));
}

// The person directory's cache (RunnerOptions::person_cache) changes nothing but memory:
// with room for one or two records, so that nearly every batch reads its people back from
// the views database, in small batches, stopped and reopened on the way, read ahead or
// not, the views answer and store exactly what views holding everyone do.
TEST_P(PropertyTest, ATinyPersonCacheBuildsTheSameViews) {
  TestLog log;
  History history(GetParam());
  history.Run(3000);
  AppendConcurrently(log, history.appends(), 4);
  const uint64_t last = log.store().CommittedPosition();
  auto open = [&](const std::string& name, uint64_t until, size_t batch, size_t cache, bool read_ahead) {
    RunnerOptions o;
    o.path = log.Path(name);
    o.rules = Rules();
    o.until = until;
    o.max_batch = batch;
    o.person_cache = cache;
    o.read_ahead = read_ahead;
    auto r = ViewRunner::Open(log.store(), AllViews(), o);
    EXPECT_TRUE(r) << r.error().message;
    return r ? std::move(*r) : nullptr;
  };
  std::vector<Date> days;
  for (Date d = D("2020-10-13"); d <= history.today() + 20; d = d + 3) days.push_back(d);

  auto whole = open("whole", 0, 64, 0, false);
  ASSERT_TRUE(whole);
  ASSERT_TRUE(whole->CatchUp());
  const std::string expected = DumpAll(*whole, days);
  EXPECT_NE(expected.find("\"patients\":[{"), std::string::npos);  // the GPs have patients
  EXPECT_EQ(whole->CachedPeople(), history.people().size());

  auto tiny = open("tiny", 0, 5, 2, false);
  ASSERT_TRUE(tiny);
  ASSERT_TRUE(tiny->CatchUp()) << tiny->failure();
  EXPECT_LE(tiny->CachedPeople(), 2u);  // everyone else was evicted
  EXPECT_EQ(DumpAll(*tiny, days), expected);
  // Every record, read back from the database, is the one held in memory by `whole`.
  for (const auto& p : history.people()) {
    auto found = tiny->FindPerson(p.person_id);
    ASSERT_TRUE(found) << found.error().message;
    ASSERT_TRUE(*found) << p.person_id;
    auto held = whole->FindPerson(p.person_id);
    ASSERT_TRUE(held && *held);
    EXPECT_EQ(PersonDirectory::Encode(**found), PersonDirectory::Encode(**held));
  }
  auto nobody = tiny->FindPerson(PersonId(999999));
  ASSERT_TRUE(nobody);
  EXPECT_FALSE(*nobody);

  // Stopped twice on the way, reopened with one record of cache, read ahead or not.
  for (uint64_t until : {last / 3, 2 * last / 3, uint64_t{0}}) {
    auto r = open("restarted", until, 7, 1, until != last / 3);
    ASSERT_TRUE(r);
    ASSERT_TRUE(r->CatchUp()) << r->failure();
    EXPECT_EQ(r->Position(), until ? until : last);
    if (until == 0) {
      EXPECT_EQ(DumpAll(*r, days), expected);
    }
  }
  // A rebuild reading ahead, with a cache smaller than a batch's people.
  RebuildOptions ro;
  ro.path = log.Path("rebuilt");
  ro.rules = Rules();
  ro.max_batch = 100;
  ro.person_cache = 3;
  auto rebuilt = Rebuild(log.store(), AllViews(), ro);
  ASSERT_TRUE(rebuilt) << rebuilt.error().message;
  EXPECT_EQ(DumpAll(**rebuilt, days), expected);

  whole.reset();
  tiny.reset();
  rebuilt->reset();
  auto stored = Stored(log.Path("whole"));
  EXPECT_GT(stored.size(), 100u);
  EXPECT_TRUE(stored == Stored(log.Path("tiny")));
  EXPECT_TRUE(stored == Stored(log.Path("restarted")));
  EXPECT_TRUE(stored == Stored(log.Path("rebuilt")));
}

INSTANTIATE_TEST_SUITE_P(Seeds, PropertyTest, ::testing::Values(1, 2, 20201012));

}  // namespace
}  // namespace caseledger::projections
