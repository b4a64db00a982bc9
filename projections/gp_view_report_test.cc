// The GP view's report days: results kept for the seven latest report days, each day one
// entry written once per batch and deleted once, its ids encoded as strings.
#include "projections/gp_view_test_fixture.h"

#include <algorithm>

namespace caseledger::projections {
namespace {

using namespace gp_view_testing;  // the fixture and its helpers
using domain::Date;
using domain::Timestamp;
using testing::At;
using testing::D;
namespace json = boost::json;
TEST_F(GpViewTest, ResultsAreKeptForTheSevenLatestReportDays) {
  Patient(0, kGp1);
  for (const char* day : {"2020-10-01", "2020-10-02", "2020-10-08"}) {
    const std::string swab = std::string("SW-") + day;
    Request(0, swab, day);
    Collect(0, swab, day);
    Result(0, swab, domain::Outcome::kNegative, day, day);
  }
  EXPECT_EQ(Count(Gp(kGp1, "2020-10-01"), "results_to_read"), 0u);
  EXPECT_EQ(Count(Gp(kGp1, "2020-10-02"), "results_to_read"), 1u);
  EXPECT_FALSE(Persisted(std::string(kGp1) + "/r/2020-10-01"));
  EXPECT_TRUE(Persisted(std::string(kGp1) + "/r/2020-10-02"));
  Request(0, "SW-late", "2020-09-20");
  Collect(0, "SW-late", "2020-09-20");
  Result(0, "SW-late", domain::Outcome::kNegative, "2020-09-20", "2020-09-30");  // too old
  EXPECT_EQ(Count(Gp(kGp1, "2020-09-30"), "results_to_read"), 0u);
}

// A GP's results are one entry per report day: written whole once per batch that changed
// it, deleted once when the day leaves the 7 kept, and neither for a day that came and went
// between two writes.
TEST_F(GpViewTest, AReportDayIsOneEntryWrittenOncePerBatchAndDeletedOnce) {
  Patient(0, kGp1);
  Patient(1, kGp1);
  Commit();
  auto results_ops = [&] {
    std::vector<std::string> out;
    for (const std::string& op : sink_.ops) {
      if (op.find(std::string(kGp1) + "/r/") != std::string::npos) out.push_back(op);
    }
    sink_.ops.clear();
    return out;
  };
  results_ops();
  auto result = [&](int n, const std::string& swab, const char* day) {
    Request(n, swab, day);
    Collect(n, swab, day);
    Result(n, swab, domain::Outcome::kNegative, day, day);
  };
  result(0, "SW-1", "2020-10-02");
  result(1, "SW-2", "2020-10-02");
  Commit();
  const std::string gp = kGp1;
  EXPECT_EQ(results_ops(), std::vector<std::string>{"put " + gp + "/r/2020-10-02"});
  EXPECT_EQ(Count(Gp(kGp1, "2020-10-02"), "results_to_read"), 2u);

  result(0, "SW-3", "2020-10-10");  // 2020-10-02 is no longer kept
  Commit();
  std::vector<std::string> ops = results_ops();
  std::sort(ops.begin(), ops.end());
  EXPECT_EQ(ops, (std::vector<std::string>{"delete " + gp + "/r/2020-10-02", "put " + gp + "/r/2020-10-10"}));

  result(1, "SW-4", "2020-10-05");  // kept for now...
  result(0, "SW-5", "2020-10-13");  // ...and no longer: never written
  Commit();
  EXPECT_EQ(results_ops(), std::vector<std::string>{"put " + gp + "/r/2020-10-13"});
  EXPECT_FALSE(Persisted(gp + "/r/2020-10-05"));
  EXPECT_EQ(Count(Gp(kGp1, "2020-10-13"), "results_to_read"), 1u);
  EXPECT_EQ(Count(Gp(kGp1, "2020-10-10"), "results_to_read"), 1u);
}

// A result note with its ids as std::string, as the view's notes were held before session 31.
struct StringNote {
  Date day;
  uint64_t position = 0;
  std::string person, swab_id;
  domain::Outcome outcome = domain::Outcome::kNegative;
  bool corrected = false;
  template <class A>
  void serialize(A& ar) {
    ar(day, position, person, swab_id, outcome, corrected);
  }
};

// A day dropped from the 7 kept gives its buffer to the next new day, but only when no
// published snapshot shares its notes: readers keep seeing the notes they were published,
// and the new day holds its own notes alone.
TEST_F(GpViewTest, ADroppedDaysNotesStayWithTheirSnapshotAndTheNextDayStartsEmpty) {
  Patient(0, kGp1);
  Patient(1, kGp1);
  auto result = [&](int n, const std::string& swab, const char* day) {
    Request(n, swab, day);
    Collect(n, swab, day);
    Result(n, swab, domain::Outcome::kNegative, day, day);
  };
  auto published = [&](const char* day) {  // what readers see, without a Commit
    auto gp = GpJson(view_, kGp1, D(day));
    return gp ? Count(*gp, "results_to_read") : 0u;
  };
  result(0, "SW-1", "2020-10-02");
  result(1, "SW-2", "2020-10-02");
  Commit();
  result(0, "SW-3", "2020-10-10");  // drops 2020-10-02, which the snapshot shares
  EXPECT_EQ(published("2020-10-02"), 2u);
  Commit();
  EXPECT_EQ(published("2020-10-02"), 0u);
  EXPECT_EQ(published("2020-10-10"), 1u);

  result(1, "SW-4", "2020-10-12");  // never published...
  result(0, "SW-5", "2020-10-20");  // ...dropped with 2020-10-10: its buffer is the new day's
  Commit();
  const json::object gp = Gp(kGp1, "2020-10-20");
  EXPECT_EQ(Only(gp, "results_to_read").at("swab_id"), "SW-5");
  EXPECT_EQ(published("2020-10-12"), 0u);
}

// A report day's entry is the notes with their person and swab ids as strings (cereal's
// length, then the bytes), whichever way the view holds them; an id too long to hold
// (over 40 characters) does not decode.
TEST_F(GpViewTest, AReportDaysEntryEncodesItsIdsAsStrings) {
  Patient(0, kGp1);
  const std::string swab = "DM20201002-" + std::string(29, '7');  // 40 characters
  Request(0, swab, "2020-10-02");
  Collect(0, swab, "2020-10-02");
  Result(0, swab, domain::Outcome::kPositive, "2020-10-02", "2020-10-02");
  Commit();
  const std::string key = std::string(kGp1) + "/r/2020-10-02";
  ASSERT_TRUE(sink_.entries.contains(key));
  std::vector<StringNote> notes{{D("2020-10-02"), position_, Person(0), swab, domain::Outcome::kPositive, false}};
  EXPECT_EQ(sink_.entries.at(key), EncodeEntry(1, notes));

  GpView loaded(rules_);
  ASSERT_EQ(swab.size(), 40u);
  EXPECT_TRUE(loaded.Load(key, sink_.entries.at(key)));
  notes[0].swab_id += "9";
  EXPECT_FALSE(loaded.Load(key, EncodeEntry(1, notes)));
}

// The first Persist writes every report day kept and deletes nothing, which is what a view
// written after every event holds by then (the days changed are not tracked before it: a
// catch-up from scratch writes once, at its end); from there, only the days changed.
TEST_F(GpViewTest, TheFirstPersistWritesTheDaysKeptThenOnlyTheDaysChanged) {
  shadow_ = std::make_unique<GpView>(rules_);
  auto report_days = [&] {  // the report days' writes (not the patients')
    std::vector<std::string> out;
    for (const std::string& op : sink_.ops) {
      if (op.find("/r/") != std::string::npos) out.push_back(op);
    }
    sink_.ops.clear();
    return out;
  };
  auto result = [&](int n, const std::string& swab, const char* day) {
    Request(n, swab, day);
    Collect(n, swab, day);
    Result(n, swab, domain::Outcome::kNegative, day, day);
  };
  Patient(0, kGp1);
  Patient(1, kGp1);
  Patient(2, kGp2);
  int n = 0;
  for (const char* day : {"2020-10-01", "2020-10-03", "2020-10-06", "2020-10-09", "2020-10-12", "2020-10-13"}) {
    for (int p = 0; p < 3; ++p) result(p, "SW-" + std::to_string(++n), day);
  }
  Assign(1, kGp2);  // moves their notes of the kept days
  Assign(0, "");
  Commit();
  EXPECT_EQ(sink_.entries, shadow_sink_.entries);
  std::vector<std::string> expected;
  for (const auto& [key, value] : shadow_sink_.entries) {
    if (key.find("/r/") != std::string::npos) expected.push_back("put " + key);
  }
  EXPECT_EQ(expected.size(), 3u);  // MMG00001 has no patient left; MMG00002: 10-09, 10-12, 10-13
  EXPECT_EQ(report_days(), expected);  // in key order, each once, no delete

  result(2, "SW-late", "2020-10-17");  // 2020-10-09 is no longer kept
  Commit();
  const std::string gp = kGp2;
  std::vector<std::string> ops = report_days();
  std::sort(ops.begin(), ops.end());
  EXPECT_EQ(ops, (std::vector<std::string>{"delete " + gp + "/r/2020-10-09", "put " + gp + "/r/2020-10-17"}));
  EXPECT_EQ(sink_.entries, shadow_sink_.entries);
}

// Persist writes the report days in key order, whatever order they changed in: the
// writer's batch is then a sorted run it need not sort and rewrite (ViewsDb::Batch::Sort).
TEST_F(GpViewTest, ReportDaysAreWrittenInKeyOrder) {
  Patient(0, kGp2);
  Patient(1, kGp1);
  Patient(2, kGp2);
  Commit();
  sink_.ops.clear();
  int n = 0;
  for (const char* day : {"2020-10-09", "2020-10-03", "2020-10-07", "2020-10-05", "2020-10-04", "2020-10-08"}) {
    for (int p = 0; p < 3; ++p) {
      const std::string swab = "SW-" + std::to_string(++n);
      Request(p, swab, day);
      Collect(p, swab, day);
      Result(p, swab, domain::Outcome::kNegative, day, day);
    }
  }
  Commit();
  std::vector<std::string> days;
  for (const std::string& op : sink_.ops) {
    if (op.find("/r/") != std::string::npos) days.push_back(op);
  }
  ASSERT_EQ(days.size(), 12u);  // 6 days for each of the two GPs
  EXPECT_TRUE(std::is_sorted(days.begin(), days.end())) << days.front() << " ... " << days.back();
  EXPECT_EQ(days.front(), "put " + std::string(kGp1) + "/r/2020-10-03");
}

}  // namespace
}  // namespace caseledger::projections
