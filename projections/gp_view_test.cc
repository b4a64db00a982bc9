// The GP view driven directly: events built here, applied to the view and then to a person
// directory (as the runner does), with hand-checked patients, end dates and actions.
#include "projections/gp_view.h"

#include "domain/event_codec.h"
#include "projections/entry_codec.h"
#include "projections/person_directory.h"
#include "projections/views_db.h"
#include "projections/views_test_support.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <algorithm>

#include <atomic>
#include <map>
#include <thread>

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
    ops.push_back("put " + std::string(key));
  }
  void Delete(std::string_view key) override {
    entries.erase(std::string(key));
    ops.push_back("delete " + std::string(key));
  }
  std::map<std::string, std::string> entries;
  int puts = 0;
  std::vector<std::string> ops;  // in order, "put <key>" or "delete <key>"
};

std::string Person(int n) {  // 26-character ULIDs, sorted by n
  std::string id = "01HF000000000000000000000";
  return id + static_cast<char>('A' + n);
}

json::value Id(int n) { return json::value(Person(n)); }

constexpr const char* kGp1 = "MMG00001";
constexpr const char* kGp2 = "MMG00002";

class GpViewTest : public ::testing::Test {
 protected:
  void Append(const std::string& person, domain::Event event, Timestamp effective) {
    domain::Envelope env;
    env.position = ++position_;
    env.stream = domain::PersonStream(person);
    env.type = std::string(domain::TypeName(event));
    env.effective_at = effective;
    env.recorded_at = effective;
    LogEvent e{env, event, person};
    view_.Apply(e, directory_.Find(person), sink_);
    if (shadow_) {  // the same events, written after each one
      shadow_->Apply(e, directory_.Find(person), shadow_sink_);
      shadow_->Persist(shadow_sink_);
    }
    directory_.Apply(e);
  }
  void Patient(int n, const char* gp) {
    Append(Person(n), domain::PersonRegistered{Person(n), domain::Sex::kMale, "001272", {}},
           At("2020-09-01", 9));
    if (gp) Assign(n, gp);
  }
  void Assign(int n, const char* gp) {
    Append(Person(n), domain::GpAssigned{gp, directory_.Find(Person(n))->gp_id},
           At("2020-09-01", 10));
  }
  void Request(int n, const std::string& swab, const char* day) {
    Append(Person(n), domain::SwabRequested{swab, domain::SwabKind::kMolecular, "contact", kGp1, {}},
           At(day, 8));
  }
  void Collect(int n, const std::string& swab, const char* day) {
    Append(Person(n), domain::SwabCollected{swab, At(day, 9), "drive-in", ""}, At(day, 9));
  }
  void Result(int n, const std::string& swab, domain::Outcome outcome, const char* collected,
              const char* reported) {
    Append(Person(n), domain::ResultRecorded{swab, outcome, "LAB01", At(reported, 11)},
           At(collected, 9));
  }
  void Quarantine(int n, uint32_t id, const char* start) {
    Append(Person(n), domain::QuarantineOrdered{id, D(start), "close_contact", "", std::nullopt},
           At(start, 0));
  }
  // The end of a batch, as the runner does it: write what changed, then publish.
  void Commit() {
    view_.Persist(sink_);
    view_.Publish(position_);
  }
  json::object Gp(const char* gp, const char* day) {
    Commit();
    auto out = GpJson(view_, gp, D(day));
    return out ? *out : json::object{};
  }
  static json::object Only(const json::object& gp, const char* list) {
    const json::array& a = gp.at("actions").at(list).as_array();
    EXPECT_EQ(a.size(), 1u) << list;
    return a.empty() ? json::object{} : a[0].as_object();
  }
  // Whether some persisted key starts with `prefix`.
  bool Persisted(const std::string& prefix) const {
    auto it = sink_.entries.lower_bound(prefix);
    return it != sink_.entries.end() && it->first.starts_with(prefix);
  }
  static size_t Count(const json::object& gp, const char* list) {
    return gp.at("actions").at(list).as_array().size();
  }

  std::shared_ptr<const domain::RuleBook> rules_ = testing::Rules();
  GpView view_{rules_};
  PersonDirectory directory_{rules_};
  MemorySink sink_;
  uint64_t position_ = 0;
  std::unique_ptr<GpView> shadow_;  // when set, Append applies and persists each event there too
  MemorySink shadow_sink_;
};

TEST_F(GpViewTest, ListsEveryPatientWithMeasuresAndPendingSwabs) {
  Patient(0, kGp1);
  Patient(1, kGp1);
  Patient(2, kGp1);
  Patient(3, nullptr);
  Quarantine(0, 1, "2020-10-20");
  Request(1, "SW-000001", "2020-10-21");

  json::object gp = Gp(kGp1, "2020-10-21");
  EXPECT_EQ(gp.at("patient_count"), 3);
  const json::array& patients = gp.at("patients").as_array();
  ASSERT_EQ(patients.size(), 3u);
  EXPECT_EQ(patients[0].at("person_id"), Id(0));
  EXPECT_EQ(patients[2].at("person_id"), Id(2));
  EXPECT_EQ(json::serialize(patients[0].at("measures")),
            R"([{"measure_id":1,"kind":"quarantine","reason":"close_contact","start":"2020-10-20",)"
            R"("end":"2020-11-03","end_given":false,"release_with_test_from":"2020-10-30",)"
            R"("rule_set":"2020-10-12"}])");
  EXPECT_EQ(json::serialize(patients[1].at("pending_swabs")),
            R"([{"swab_id":"SW-000001","kind":"molecular","requested_on":"2020-10-21",)"
            R"("collected_on":null}])");
  EXPECT_EQ(json::serialize(patients[2]),
            R"({"person_id":")" + Person(2) +
                R"(","case_open":false,"measures":[],"pending_swabs":[]})");
  EXPECT_FALSE(GpJson(view_, kGp2, D("2020-10-21")).has_value());
}

TEST_F(GpViewTest, ResultsToReadAreThoseReportedThatDay) {
  Patient(0, kGp1);
  Request(0, "SW-000001", "2020-10-20");
  Collect(0, "SW-000001", "2020-10-20");
  EXPECT_EQ(
      Gp(kGp1, "2020-10-20").at("patients").at(0).at("pending_swabs").at(0).at("collected_on"),
      "2020-10-20");
  Result(0, "SW-000001", domain::Outcome::kPositive, "2020-10-20", "2020-10-21");

  EXPECT_EQ(Count(Gp(kGp1, "2020-10-20"), "results_to_read"), 0u);
  EXPECT_EQ(Count(Gp(kGp1, "2020-10-22"), "results_to_read"), 0u);
  json::object gp = Gp(kGp1, "2020-10-21");
  json::object read = Only(gp, "results_to_read");
  EXPECT_EQ(read.at("person_id"), Id(0));
  EXPECT_EQ(read.at("swab_id"), "SW-000001");
  EXPECT_EQ(read.at("outcome"), "positive");
  EXPECT_EQ(read.at("corrected"), false);
  EXPECT_EQ(gp.at("patients").at(0).at("case_open"), true);
  EXPECT_TRUE(gp.at("patients").at(0).at("pending_swabs").as_array().empty());

  Append(Person(0), domain::ResultCorrected{"SW-000001", domain::Outcome::kPositive,
                                            domain::Outcome::kNegative, "sample swap", "LAB01",
                                            At("2020-10-23", 15)},
         At("2020-10-20", 9));
  json::object corrected = Only(Gp(kGp1, "2020-10-23"), "results_to_read");
  EXPECT_EQ(corrected.at("outcome"), "negative");
  EXPECT_EQ(corrected.at("corrected"), true);
  // No positive swab left: the case is no longer open (the directory's episode rule).
  EXPECT_EQ(Gp(kGp1, "2020-10-23").at("patients").at(0).at("case_open"), false);
}

TEST_F(GpViewTest, MeasuresEndingAndReleaseTestsFallOnTheirDays) {
  Patient(0, kGp1);
  Patient(1, kGp1);
  // 12 Oct 2020 rules: isolation 10 days + test or 21 days; contacts 10 + test or 14.
  Append(Person(0), domain::IsolationOrdered{1, D("2020-10-20"), "positive", std::nullopt},
         At("2020-10-20", 0));
  Quarantine(1, 1, "2020-10-22");

  json::object due = Only(Gp(kGp1, "2020-10-30"), "release_tests_due");
  EXPECT_EQ(due.at("person_id"), Id(0));
  EXPECT_EQ(due.at("kind"), "isolation");
  EXPECT_EQ(due.at("release_with_test_from"), "2020-10-30");
  EXPECT_EQ(Only(Gp(kGp1, "2020-11-01"), "release_tests_due").at("person_id"), Id(1));
  json::object ending = Only(Gp(kGp1, "2020-11-05"), "measures_ending");
  EXPECT_EQ(ending.at("person_id"), Id(1));
  EXPECT_EQ(ending.at("end"), "2020-11-05");
  EXPECT_EQ(Only(Gp(kGp1, "2020-11-10"), "measures_ending").at("kind"), "isolation");
  EXPECT_EQ(Count(Gp(kGp1, "2020-11-09"), "measures_ending"), 0u);
}

TEST_F(GpViewTest, MeasureEndedEarlyDisappears) {
  Patient(0, kGp1);
  Quarantine(0, 1, "2020-10-20");
  EXPECT_EQ(Gp(kGp1, "2020-10-31").at("patients").at(0).at("measures").as_array().size(), 1u);
  EXPECT_EQ(Count(Gp(kGp1, "2020-11-03"), "measures_ending"), 1u);
  Append(Person(0),
         domain::MeasureEnded{1, D("2020-10-30"), domain::MeasureEndReason::kNegativeTest},
         At("2020-10-30", 0));

  EXPECT_TRUE(Gp(kGp1, "2020-10-31").at("patients").at(0).at("measures").as_array().empty());
  EXPECT_EQ(Count(Gp(kGp1, "2020-11-03"), "measures_ending"), 0u);
  EXPECT_EQ(Count(Gp(kGp1, "2020-10-30"), "release_tests_due"), 0u);
}

TEST_F(GpViewTest, AMeasureIsListedFromItsStartUntilTheDayBeforeItsEnd) {
  Patient(0, kGp1);
  Quarantine(0, 1, "2020-10-20");
  auto listed = [&](const char* day) {
    return Gp(kGp1, day).at("patients").at(0).at("measures").as_array().size();
  };
  EXPECT_EQ(listed("2020-10-19"), 0u);
  EXPECT_EQ(listed("2020-10-20"), 1u);
  EXPECT_EQ(listed("2020-11-02"), 1u);
  EXPECT_EQ(listed("2020-11-03"), 0u);  // over on its end day: in measures_ending instead
}

TEST_F(GpViewTest, GpChangeMovesThePatientWithStatusAndTodaysResults) {
  Patient(0, kGp1);
  Patient(1, kGp1);
  Quarantine(0, 1, "2020-10-20");
  Request(0, "SW-000001", "2020-10-20");
  Request(0, "SW-000002", "2020-10-21");
  Collect(0, "SW-000001", "2020-10-20");
  Result(0, "SW-000001", domain::Outcome::kNegative, "2020-10-20", "2020-10-21");
  Assign(0, kGp2);

  json::object old_gp = Gp(kGp1, "2020-10-21");
  EXPECT_EQ(old_gp.at("patient_count"), 1);
  EXPECT_EQ(old_gp.at("patients").at(0).at("person_id"), Id(1));
  EXPECT_EQ(Count(old_gp, "results_to_read"), 0u);
  json::object new_gp = Gp(kGp2, "2020-10-21");
  EXPECT_EQ(new_gp.at("patient_count"), 1);
  const json::value& moved = new_gp.at("patients").at(0);
  EXPECT_EQ(moved.at("measures").at(0).at("end"), "2020-11-03");
  EXPECT_EQ(moved.at("pending_swabs").at(0).at("swab_id"), "SW-000002");
  EXPECT_EQ(Only(new_gp, "results_to_read").at("swab_id"), "SW-000001");
  EXPECT_FALSE(sink_.entries.contains(std::string(kGp1) + "/p/" + Person(0)));
  EXPECT_TRUE(sink_.entries.contains(std::string(kGp2) + "/p/" + Person(0)));
  EXPECT_FALSE(Persisted(std::string(kGp1) + "/r/2020-10-21"));
  EXPECT_TRUE(Persisted(std::string(kGp2) + "/r/2020-10-21"));

  Assign(1, kGp2);  // the last patient leaves: the GP is gone
  Commit();
  EXPECT_FALSE(GpJson(view_, kGp1, D("2020-10-21")).has_value());
  EXPECT_EQ(Gp(kGp2, "2020-10-21").at("patient_count"), 2);
}

TEST_F(GpViewTest, FirstAssignmentTakesCaseAndMeasuresFromTheDirectory) {
  Patient(0, nullptr);
  Append(Person(0), domain::IsolationOrdered{1, D("2020-10-20"), "positive", D("2020-11-02")},
         At("2020-10-20", 0));
  Assign(0, kGp1);
  const json::value measure = Gp(kGp1, "2020-10-21").at("patients").at(0).at("measures").at(0);
  EXPECT_EQ(measure.at("end"), "2020-11-02");
  EXPECT_EQ(measure.at("end_given"), true);
  EXPECT_EQ(measure.at("release_with_test_from"), "2020-10-30");
}

TEST_F(GpViewTest, VaccinationStatusOnTheStartDayFixesTheEnd) {
  Patient(0, kGp1);
  Patient(1, kGp1);
  const char* doses[] = {"2021-06-01", "2021-07-01", "2021-12-01"};
  for (uint32_t n = 1; n <= 3; ++n) {
    Append(Person(1), domain::VaccinationRecorded{n, D(doses[n - 1]), "Comirnaty"},
           At(doses[n - 1], 0));
  }
  // 31 Dec 2021 rules. Unvaccinated contact: 14 days, or 10 with a negative test.
  Quarantine(0, 1, "2022-01-03");
  json::value m = Gp(kGp1, "2022-01-04").at("patients").at(0).at("measures").at(0);
  EXPECT_EQ(m.at("end"), "2022-01-17");
  EXPECT_EQ(m.at("release_with_test_from"), "2022-01-13");
  EXPECT_EQ(m.at("rule_set"), "2021-12-31");
  // Boosted contact: no quarantine (self-monitoring only), so the measure is over on its
  // first day, as the person directory counts it.
  Quarantine(1, 1, "2022-01-03");
  json::object ending = Only(Gp(kGp1, "2022-01-03"), "measures_ending");
  EXPECT_EQ(ending.at("person_id"), Id(1));
  EXPECT_EQ(ending.at("end"), "2022-01-03");
  // A dose recorded after the order changes nothing: the end is fixed when ordered.
  Append(Person(0), domain::VaccinationRecorded{1, D("2021-12-20"), "Comirnaty"},
         At("2022-01-05", 0));
  EXPECT_EQ(Gp(kGp1, "2022-01-05").at("patients").at(0).at("measures").at(0).at("end"),
            "2022-01-17");
}

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

TEST_F(GpViewTest, LoadOfThePersistedEntriesReproducesTheSameJson) {
  Patient(0, kGp1);
  Patient(1, kGp1);
  Patient(2, kGp2);
  Quarantine(0, 1, "2020-10-20");
  Request(1, "SW-000001", "2020-10-20");
  Collect(1, "SW-000001", "2020-10-20");
  Result(1, "SW-000001", domain::Outcome::kPositive, "2020-10-20", "2020-10-21");
  Request(2, "SW-000002", "2020-10-21");
  Commit();

  GpView restored(rules_);
  for (const auto& [key, value] : sink_.entries) ASSERT_TRUE(restored.Load(key, value)) << key;
  restored.Publish(position_);
  EXPECT_TRUE(restored.ChangedKeys().empty());
  for (const char* gp : {kGp1, kGp2}) {
    for (const char* day : {"2020-10-21", "2020-10-30", "2020-11-03"}) {
      EXPECT_EQ(json::serialize(*GpJson(restored, gp, D(day))),
                json::serialize(*GpJson(view_, gp, D(day))));
    }
  }
  EXPECT_FALSE(restored.Load(std::string(kGp1) + "/p/" + Person(0), "\x02"));
  EXPECT_FALSE(restored.Load(std::string(kGp1) + "/x/" + Person(0), sink_.entries.begin()->second));
}

TEST_F(GpViewTest, ChangedKeysNameTheGpsTouchedAndReadersSeeOnlyPublishedState) {
  Patient(0, kGp1);
  EXPECT_FALSE(GpJson(view_, kGp1, D("2020-10-01")).has_value());
  EXPECT_EQ(view_.ChangedKeys(), std::vector<std::string>{kGp1});
  Commit();
  EXPECT_TRUE(view_.ChangedKeys().empty());
  EXPECT_EQ(GpJson(view_, kGp1, D("2020-10-01"))->at("position"), position_);
  Assign(0, kGp2);
  EXPECT_EQ(view_.ChangedKeys(), (std::vector<std::string>{kGp1, kGp2}));
  EXPECT_EQ(GpJson(view_, kGp1, D("2020-10-01"))->at("patient_count"), 1);  // still published
}

// Attached (patients' rows folded with the records), a GP whose patient's row alone changed
// is among ChangedKeys only while changes are announced (a runner with listeners).
TEST(GpViewAttachedTest, ARowChangeNamesItsGpOnlyWhileChangesAreAnnounced) {
  class NoEntries final : public StoredEntries {
    class Empty final : public Pinned {
      eventstore::StoreResult<void> Scan(std::string_view,
                                         const std::function<void(std::string_view, std::string_view)>&) const override {
        return {};
      }
    };
    std::shared_ptr<const Pinned> Pin() const override { return std::make_shared<Empty>(); }
  };
  GpView view(testing::Rules());
  view.Attach(std::make_shared<NoEntries>());
  ASSERT_EQ(view.PersonFolds(1).size(), 1u);
  MemorySink sink;
  PersonDirectory directory(testing::Rules());
  uint64_t position = 0;
  const std::string id = Person(0);
  auto apply = [&](domain::Event event, bool fold_changed) {
    domain::Envelope env;
    env.position = ++position;
    env.stream = domain::PersonStream(id);
    env.type = std::string(domain::TypeName(event));
    env.effective_at = At("2020-10-20", 8);
    env.recorded_at = env.effective_at;
    LogEvent e{env, event, id};
    e.fold_changed = fold_changed;
    view.Apply(e, directory.Find(id), sink);
    directory.Apply(e);
  };
  apply(domain::PersonRegistered{id, domain::Sex::kMale, "001272", {}}, false);
  apply(domain::GpAssigned{kGp1, ""}, true);
  view.Publish(position);
  const domain::Event requested =
      domain::SwabRequested{"SW-000001", domain::SwabKind::kMolecular, "contact", kGp1, {}};
  apply(requested, true);
  EXPECT_EQ(view.ChangedKeys(), std::vector<std::string>{kGp1});
  view.Publish(position);
  view.AnnounceChanges(false);
  apply(requested, true);
  EXPECT_TRUE(view.ChangedKeys().empty());
  apply(domain::GpAssigned{kGp2, kGp1}, true);  // the counts change: named still
  EXPECT_EQ(view.ChangedKeys(), (std::vector<std::string>{kGp1, kGp2}));
  view.Publish(position);
  view.AnnounceChanges(true);
  apply(requested, true);
  EXPECT_EQ(view.ChangedKeys(), std::vector<std::string>{kGp2});
}

TEST_F(GpViewTest, APatientIsWrittenOncePerBatchAndResetForgetsEverything) {
  Patient(0, kGp1);
  Request(0, "SW-000001", "2020-10-20");
  Collect(0, "SW-000001", "2020-10-20");
  Quarantine(0, 1, "2020-10-20");
  EXPECT_TRUE(sink_.entries.empty());  // patients are written at the end of the batch
  Commit();
  EXPECT_EQ(sink_.puts, 1);
  ASSERT_TRUE(view_.Reset());
  view_.Publish(position_);
  EXPECT_FALSE(GpJson(view_, kGp1, D("2020-10-20")).has_value());
  EXPECT_EQ(view_.position(), position_);
}

TEST_F(GpViewTest, ReadersOnAnotherThreadSeeWholeBatchesOnly) {
  constexpr int kBatches = 40, kPerBatch = 10;
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done.load()) {
      auto gp = GpJson(view_, kGp1, D("2020-10-01"));
      if (!gp) continue;
      const size_t listed = gp->at("patients").as_array().size();
      EXPECT_EQ(listed % kPerBatch, 0u);
      EXPECT_EQ(gp->at("patient_count"), listed);
    }
  });
  int n = 0;
  for (int b = 0; b < kBatches; ++b) {
    for (int i = 0; i < kPerBatch; ++i, ++n) {
      const std::string id = "01HF0000000000000000" + std::to_string(100000 + n);
      Append(id, domain::PersonRegistered{id, domain::Sex::kMale, "001272", {}},
             At("2020-09-01", 9));
      Append(id, domain::GpAssigned{kGp1, ""}, At("2020-09-01", 10));
    }
    Commit();
  }
  done = true;
  reader.join();
  EXPECT_EQ(Gp(kGp1, "2020-10-01").at("patient_count"), kBatches * kPerBatch);
}

}  // namespace
}  // namespace caseledger::projections
