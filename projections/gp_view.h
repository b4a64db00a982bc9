// The GP view (docs/api.md): per GP/paediatrician id, the patients with their current status
// (open case, active measures with their end dates, pending swabs) and the actions of a
// day (results reported that day to read, measures ending, release tests due). Patients are
// identified by their pseudonymous person id only: no name, tax code or address.
#pragma once

#include "domain/rules.h"
#include "domain/time.h"
#include "projections/keyed_view.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace caseledger::projections {

// A measure of a GP's patient. `end` is the day the measure is over, fixed when it was
// ordered exactly as the person directory fixes it: the operator's end when given
// (end_given), else the plan of the rule set in force on the start with the vaccination
// status on the start day (its start when the plan requires no quarantine, start + 14 when
// no set is in force); release_with_test_from and rule_set come from that plan (none
// without a set).
struct GpMeasure {
  uint32_t measure_id = 0;
  bool isolation = false;  // else quarantine
  std::string reason;
  domain::Date start;
  domain::Date end;
  bool end_given = false;
  std::optional<domain::Date> release_with_test_from;
  std::string rule_set;  // empty: no set in force on the start
};

// A swab pending from its request until a result of any outcome.
struct GpPendingSwab {
  std::string swab_id;
  domain::SwabKind kind = domain::SwabKind::kMolecular;
  domain::Date requested_on;
  std::optional<domain::Date> collected_on;
};

struct GpPatient {
  std::string person_id;
  // A positive swab collected after the last closure (a correction can close the case).
  bool case_open = false;
  std::vector<GpMeasure> measures;  // not ended by a MeasureEnded, running on the day
  std::vector<GpPendingSwab> pending_swabs;
};

// A result or correction reported (Italy) on the day.
struct GpResultToRead {
  std::string person_id;
  std::string swab_id;
  domain::Outcome outcome = domain::Outcome::kNegative;
  bool corrected = false;
};

// A measure whose end (measures_ending) or release-with-test day (release_tests_due) is
// the day.
struct GpMeasureDue {
  std::string person_id;
  uint32_t measure_id = 0;
  bool isolation = false;
  domain::Date on;
};

// A GP on a day, as of one published position.
struct GpReport {
  std::string gp_id;
  uint64_t position = 0;
  domain::Date day;
  size_t patient_count = 0;
  std::vector<GpPatient> patients;  // every one, sorted by person id
  std::vector<GpResultToRead> results_to_read;  // in log order (the 7 latest report days are kept)
  std::vector<GpMeasureDue> measures_ending;    // by patient, then in order of ordering
  std::vector<GpMeasureDue> release_tests_due;
};

class GpView final : public KeyedView {
 public:
  // The rule book gives measure end dates: the set in force on the measure's start, with
  // the person's vaccination status on that day. A RulesAdopted event does not change it:
  // adopting rules rebuilds the views with a new book (replay issue).
  explicit GpView(std::shared_ptr<const domain::RuleBook> rules);
  ~GpView() override;

  // Name "gps". Persisted entries, each a format byte then cereal binary:
  // - "<gp>/p/<person>": one patient of the GP and its status, written by Persist once per
  //   batch for each patient the batch changed (deleted when the patient moves to another
  //   GP). Per patient rather than per GP: a GP has ~1,200 patients, and a batch touching
  //   one of them must not re-encode them all.
  // - "<gp>/r/<YYYY-MM-DD>": the results reported to the GP on that day, in log order,
  //   written by Persist whole when they changed (the 7 report days up to the GP's latest
  //   are kept; older ones are deleted).
  // Load puts the entry in the working state; readers see it after the next Publish.
  // Attached (by the runner), a patient row stays on disk: Load only counts it.
  // ChangedKeys: the GP ids changed since the last Publish, sorted.

  // Keeps the patients in the views database rather than in memory (issue #14: bounded
  // memory whatever the number of people): the GPs keep their patient counts and results;
  // a patient's status is held by the person folds beside the patient's record, cached and
  // read back with it, and Gp reads a GP's rows as the batch of its published position
  // wrote them. Not attached (tests, what-if shadows), every patient is in memory. Before
  // Load; the answers and the entries written are the same.
  void Attach(std::shared_ptr<const StoredEntries> entries) override;
  // Attached: the patient rows are folded by these folds (View::PersonFolds), one per person
  // partition: a patient's row is their
  // own state (one GP at a time), folded with their record on the partition's thread, and
  // the view applies only what spans patients (a GP's count and results, a patient's
  // move). Why: the rows were most of this view's work, and this view the longest task of
  // a batch, alone on one thread (docs/benchmarks.md, 2026-12-03). Not attached: none.
  std::vector<PersonFold*> PersonFolds(size_t n) override;
  // Reacts to GpAssigned (the patient, their status and the results reported to the old
  // GP in the kept days move to the new GP) and, for a person who has a GP, to swabs
  // requested/collected, results and corrections, measures ordered and ended, and case
  // closures. A person without a GP is not tracked: at their first GpAssigned the open case
  // and measures come from the person directory; swabs pending from before that are not
  // shown. Open case and measure ends follow the directory's rules (person_internal.h), so
  // this view agrees with the municipality and region views. Throws std::length_error for
  // a person id longer than 39 characters (ids are 26-character ULIDs) or a swab id longer
  // than 40 (Decide refuses one: domain::ValidateSwabId). Runner thread only.
  void Apply(const LogEvent& e, const PersonRecord* person, PersistSink& sink) override;
  // Attached, the GP alone (the patients' rows are folded with the records); not
  // attached, the status rows are built from the record.
  bool ReadsRecord(const LogEvent& e, const PersonRecord& before) const override;
  // Assignments and results; attached with changes not announced, nothing else (a patient's
  // status is the fold's); otherwise every event that changes a status too.
  EventInterest Interest() const override;
  // Off, attached: a GP whose patients' rows alone changed (folded with the records) is not
  // among ChangedKeys; its count and results changing still are.
  void AnnounceChanges(bool on) override;

  // The GP as of the last Publish, with the actions of `today`; nullopt for a GP with no
  // patient. Thread-safe: reads one immutable snapshot, never blocks the writer.
  std::optional<GpReport> Gp(std::string_view gp, domain::Date today) const;

 private:
  class Impl;
  Impl* impl_;  // the view's table (KeyedView owns it)
};

}  // namespace caseledger::projections
