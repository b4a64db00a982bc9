// Security audit of 2026-12, finding 5: a change to a day whose bulletin was already out is
// shown as a late report of that day in the region and ASL series, not a silent rewrite.
#include "projections/views_test_support.h"
#include "tests/support/test_store.h"

#include <gtest/gtest.h>

namespace caseledger::projections {
namespace {

using namespace caseledger::projections::testing;

// A store whose clock the test sets: the recorded time of each append.
class LateReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    eventstore::StoreOptions o = caseledger::testing::StoreOptionsIn(dir_.path());
    o.clock = [this] { return now_; };
    store_ = caseledger::testing::OpenTestStore(o);
    ASSERT_TRUE(store_);
  }

  // A positive case in Torino (ASL TO) swabbed on `day`, every event recorded at `recorded`.
  void Case(int n, const char* day, domain::Timestamp recorded) {
    now_ = recorded;
    const std::string p = PersonId(n), swab = "SW-LATE-" + std::to_string(n);
    std::vector<Timed> events = {
        {domain::PersonRegistered{p, domain::Sex::kFemale, "001272", {}}, At("2020-10-01", 9)},
        {domain::SwabRequested{swab, domain::SwabKind::kMolecular, "symptoms", "GP0001", At(day, 8)}, At(day, 8)},
        {domain::SwabCollected{swab, At(day, 9), "drive-in", "LAB01"}, At(day, 9)},
        {domain::ResultRecorded{swab, domain::Outcome::kPositive, "LAB01", At(day, 18)}, At(day, 9)},
    };
    eventstore::AppendRequest r;
    r.stream = domain::PersonStream(p);
    r.expected = eventstore::ExpectedVersion::Any();
    r.actor = {"test", "operator"};
    for (const auto& [event, effective] : events) {
      domain::EncodedEvent enc = domain::Encode(event);
      r.events.push_back({enc.type, enc.schema_version, enc.body, enc.personal, effective});
    }
    auto a = store_->Append(r);
    ASSERT_TRUE(a) << a.error().message;
  }

  // The region's (or an ASL's) late reports on `day` as the views answer them.
  int64_t LateOn(const char* area, const char* day) {
    RunnerOptions o;
    o.path = dir_.Sub("views");
    o.rules = Rules();
    auto r = ViewRunner::Open(*store_, MakeViews(), o);
    EXPECT_TRUE(r) << r.error().message;
    if (!r) return -1;
    EXPECT_TRUE((*r)->CatchUp());
    auto json = RegionJson(*(*r)->Get<RegionView>("region"), area, D(day), DayRange{D(day), D(day)});
    EXPECT_TRUE(json.has_value());
    if (!json) return -1;
    const auto& daily = json->at("daily").as_array();
    return daily.empty() ? 0 : daily.at(0).at("late_reports").to_number<int64_t>();  // no series: nothing
  }

  caseledger::testing::TempDir dir_;
  domain::Timestamp now_ = At("2020-10-10", 19);
  std::unique_ptr<eventstore::EventStore> store_;
};

TEST_F(LateReportTest, EventsRecordedBeforeTheBulletinAreNotLateAndLaterOnesAre) {
  Case(1, "2020-10-10", At("2020-10-10", 19));  // recorded the same day
  Case(2, "2020-10-10", At("2020-10-11", 16));  // by the end of the next day: in time
  EXPECT_EQ(LateOn("", "2020-10-10"), 0);
  // The audit's rewrite: a case on 10 October recorded years later. Its collection (the
  // swab counts) and its result (a new positive) change the day: two late reports.
  Case(3, "2020-10-10", At("2026-12-02", 10));
  EXPECT_EQ(LateOn("", "2020-10-10"), 2);
  EXPECT_EQ(LateOn("TO", "2020-10-10"), 2);
  EXPECT_EQ(LateOn("AL", "2020-10-10"), 0);
  EXPECT_EQ(LateOn("", "2020-10-11"), 0);
}

}  // namespace
}  // namespace caseledger::projections
