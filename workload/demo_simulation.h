// Private to the demo workload (demo_workload.h): the simulated region, its people and the
// steps of one day. Primitives (registering, swabbing, positives) are in demo_workload.cc,
// the day's plan (who recovers, dies, is released, goes to hospital) in demo_day.cc.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "workload/demo_appender.h"
#include "workload/demo_people.h"
#include "workload/demo_person_store.h"
#include "workload/demo_series.h"
#include "workload/demo_workload.h"
#include "domain/person.h"

namespace caseledger::workload {

class DemoSimulation {
 public:
  DemoSimulation(std::shared_ptr<const domain::ReferenceData> reference, ScaledSeries series,
                 DemoOptions options);

  eventstore::StoreResult<DemoReport> LoadInto(eventstore::EventStore& store);

 private:
  struct PendingResult {
    size_t person;
    std::string swab_id;
    domain::Outcome outcome;
  };
  enum class Care { kHome, kWard, kIcu };
  // An open case with what the daily passes over them sort and filter by, copied from the
  // person (`care` as CareOf gives it, kept so by FollowHospitalLevels, the one step that
  // moves an open case between home, ward and ICU): three passes a day looked each case's
  // record up (a slot, a pointer, the state: cache misses once the people outgrow the
  // caches), ~6 % of the generator's thread at 1:10.
  struct OpenCase {
    size_t person;
    domain::Date positive_day;
    int age;
    Care care;
  };

  // demo_workload.cc
  bool Apply(size_t person, const domain::PersonCommand& command, domain::Timestamp now);
  domain::Timestamp At(domain::Date d, int from_minute, int to_minute);
  size_t Register(domain::Timestamp at, const domain::Municipality* residence,
                  std::string_view family_name);
  // Requests and collects a swab of `person` at `collected` (a time of day `d`); reports its
  // result that day (returns the report time) or queues it for tomorrow (returns nullopt).
  std::optional<domain::Timestamp> Swab(size_t person, domain::Timestamp collected,
                                        domain::SwabKind kind, const std::string& reason,
                                        domain::Outcome outcome, bool report_today);
  domain::Timestamp Report(size_t person, const std::string& swab_id, domain::Outcome outcome,
                           domain::Timestamp at);
  void OnPositive(size_t person, domain::Timestamp reported);
  void SeedOpenCases();
  std::string Facility(size_t person);
  Care CareOf(size_t person);

  // demo_day.cc
  void RunDay(size_t index);
  void ReportPending(domain::Date d);
  void EndElapsedQuarantines(domain::Date d);
  std::vector<size_t> PickRecoveries(domain::Date d, int64_t count);
  std::vector<size_t> PickReleases(domain::Date d, int64_t count);
  // With `tested`, released by a negative swab; else the isolation ends as elapsed.
  void Recover(size_t person, domain::Date d, bool tested);
  void Release(size_t person, domain::Date d);
  // Kind of a release test or a positive's swab: antigen while antigen_extra_ lasts
  // (counted down), else molecular.
  domain::SwabKind ExtraAntigenKind();
  void PositiveSwab(domain::Date d, bool report_today);
  void OtherSwab(domain::Date d, domain::SwabKind kind, bool report_today, bool first_test);
  void Deaths(domain::Date d, int64_t count);
  void FollowHospitalLevels(domain::Date d, int64_t ward, int64_t icu);
  // Of `candidates` (indexes into open_), the index of the one drawn.
  size_t PickElderly(const std::vector<size_t>& candidates);

  std::shared_ptr<const domain::ReferenceData> reference_;
  ScaledSeries series_;
  DemoOptions options_;
  DemoRandom random_;
  ResidentFactory factory_;
  DemoAppender appender_;
  DemoPersonStore people_;  // see Trim() in demo_day.cc for when references end
  std::vector<OpenCase> open_;          // people with an open case
  std::vector<size_t> quarantined_;     // contacts in quarantine (see quarantine_listed)
  std::vector<size_t> tested_;          // people swabbed at least once, for re-tests
  std::vector<PendingResult> pending_;  // collected today, reported tomorrow
  uint64_t swab_sequence_ = 0;
  int64_t antigen_extra_ = 0;  // today's antigen swabs left to release tests and positives
  bool in_range_ = false;  // false while seeding the cases open before the range
  // Done so far in the range, against the cumulative targets of ScaledDay.
  int64_t swabs_ = 0, antigen_swabs_ = 0, positives_ = 0, recoveries_ = 0, deaths_ = 0,
          newly_tested_ = 0;
  DemoReport report_;
};

}  // namespace caseledger::workload
