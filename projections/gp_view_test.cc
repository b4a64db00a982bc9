// The GP view driven directly: events built here, applied to the view and then to a person
// directory (as the runner does), with hand-checked patients, end dates and actions. The
// report days' tests (results kept seven days, their entries) are in gp_view_report_test.cc.
#include "projections/gp_view_test_fixture.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <thread>

namespace caseledger::projections {
namespace {

using namespace gp_view_testing;  // the fixture and its helpers
using domain::Date;
using domain::Timestamp;
using testing::At;
using testing::D;
namespace json = boost::json;

// Stored entries with nothing in them: an attached GP view's fold finds no row stored.
class NoEntries final : public StoredEntries {
  class Empty final : public Pinned {
    eventstore::StoreResult<void> Scan(std::string_view,
                                       const std::function<void(std::string_view, std::string_view)>&) const override {
      return {};
    }
  };
  std::shared_ptr<const Pinned> Pin() const override { return std::make_shared<Empty>(); }
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
  GpView view(testing::Rules());
  view.Attach(std::make_shared<NoEntries>());
  ASSERT_EQ(view.PersonFolds(1).size(), 1u);
  MemorySink sink;
  PersonDirectory directory(testing::Rules());
  uint64_t position = 0;
  const std::string id = Person(0);
  auto apply = [&](domain::Event event, bool fold_changed) {
    const domain::Envelope env = PersonEnvelope(++position, id, event, At("2020-10-20", 8));
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

// Attached, a patient's status gone idle is kept by the fold for the next patient who needs
// one (its buffers with it) and comes back as a fresh one would: null in the entry while
// idle, the same part as a fold that never recycled one.
TEST(GpViewAttachedTest, AStatusGoneIdleMakesTheNextPatientsStatus) {
  GpView view(testing::Rules()), fresh_view(testing::Rules());
  for (GpView* v : {&view, &fresh_view}) v->Attach(std::make_shared<NoEntries>());
  PersonFold& fold = *view.PersonFolds(1).at(0);
  PersonFold& fresh = *fresh_view.PersonFolds(1).at(0);
  PersonDirectory directory(testing::Rules());
  uint64_t position = 0;
  std::map<std::string, FoldState> states;
  FoldState fresh_b;  // B's status in the fold that never recycled one
  auto apply = [&](const std::string& id, domain::Event event) {
    const domain::Envelope env = PersonEnvelope(++position, id, event, At("2020-10-20", 8));
    LogEvent e{env, event, id};
    const bool changed = fold.Apply(e, directory.Find(id), &states[id]);
    if (id == Person(1)) {
      EXPECT_EQ(fresh.Apply(e, directory.Find(id), &fresh_b), changed);
    }
    directory.Apply(e);
    return changed;
  };
  const std::string a = Person(0), b = Person(1), c = Person(2);
  for (const std::string& id : {a, b, c}) {
    apply(id, domain::PersonRegistered{id, domain::Sex::kMale, "001272", {}});
    apply(id, domain::GpAssigned{kGp1, ""});
  }
  EXPECT_TRUE(apply(a, domain::SwabRequested{"SW-000001", domain::SwabKind::kMolecular, "contact", kGp1, {}}));
  EXPECT_TRUE(apply(a, domain::QuarantineOrdered{1, D("2020-10-20"), "close_contact", "", std::nullopt}));
  const void* made = states[a].get();
  ASSERT_NE(made, nullptr);
  apply(a, domain::SwabCollected{"SW-000001", At("2020-10-20", 9), "site", ""});
  EXPECT_TRUE(apply(a, domain::ResultRecorded{"SW-000001", domain::Outcome::kNegative, "LAB", At("2020-10-21", 9)}));
  EXPECT_TRUE(apply(a, domain::MeasureEnded{1, D("2020-10-21"), domain::MeasureEndReason::kNegativeTest}));
  EXPECT_EQ(states[a], nullptr);  // idle
  EXPECT_EQ(fold.Part(*directory.Find(a), states[a]), "");
  // An event that changes no status takes no spare.
  EXPECT_FALSE(apply(c, domain::SwabCollected{"SW-999999", At("2020-10-20", 9), "site", ""}));
  EXPECT_EQ(states[c], nullptr);
  // B's request makes B's status in A's: equal to the one a fresh fold makes.
  EXPECT_TRUE(apply(b, domain::SwabRequested{"SW-000002", domain::SwabKind::kAntigen, "symptoms", kGp1, {}}));
  EXPECT_EQ(states[b].get(), made);
  ASSERT_NE(fresh_b, nullptr);
  EXPECT_NE(fresh_b.get(), made);
  EXPECT_EQ(fold.Part(*directory.Find(b), states[b]), fresh.Part(*directory.Find(b), fresh_b));
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
