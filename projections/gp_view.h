// The GP view (docs/api.md): per GP/paediatrician id, the patients with their current status
// (open case, active measures with their end dates, pending swabs) and the actions of a
// day (results reported that day to read, measures ending, release tests due). Patients are
// identified by their pseudonymous person id only: no name, tax code or address.
#pragma once

#include "domain/rules.h"
#include "domain/time.h"
#include "projections/keyed_view.h"

#include <boost/json/object.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace caseledger::projections {

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
  // - "<gp>/r/<YYYY-MM-DD>/<position, 20 digits>": one result reported to the GP on that
  //   day, written by Persist (the 7 report days up to the GP's latest are kept; older ones
  //   are deleted).
  // Load puts the entry in the working state; readers see it after the next Publish.
  // Attached (by the runner), a patient row stays on disk: Load only counts it.
  // ChangedKeys: the GP ids changed since the last Publish, sorted.

  // Keeps the patients in the views database rather than in memory (issue #14: bounded
  // memory whatever the number of people): the GPs keep their patient counts and results;
  // at most `cache` patient rows (0: no limit) stay in memory between batches, the others
  // are read back when an event needs them, and GpJson reads a GP's rows as the batch of
  // its published position wrote them. Not attached (tests, what-if shadows), every
  // patient is in memory. Before Load; the answers and the entries written are the same.
  void Attach(std::shared_ptr<const StoredEntries> entries, size_t cache) override;
  // Reacts to GpAssigned (the patient, their status and the results reported to the old
  // GP in the kept days move to the new GP) and, for a person who has a GP, to swabs
  // requested/collected, results and corrections, measures ordered and ended, and case
  // closures. A person without a GP is not tracked: at their first GpAssigned the open case
  // and measures come from the person directory; swabs pending from before that are not
  // shown. Open case and measure ends follow the directory's rules (person_internal.h), so
  // this view agrees with the municipality and region views. Throws std::length_error for
  // a person id longer than 39 characters (ids are 26-character ULIDs). Runner thread only.
  void Apply(const LogEvent& e, const PersonRecord* person, PersistSink& sink) override;

  // Patient rows held in memory while attached (0 when not attached). Runner thread only.
  size_t CachedRows() const;

  // The GP as of the last Publish, with the actions of `today`; nullopt for a GP with no
  // patient. Thread-safe: renders from one immutable snapshot, never blocks the writer.
  //
  // {"gp_id", "position": <last published position>, "day": "YYYY-MM-DD", "patient_count",
  //  "patients": [{"person_id", "case_open",
  //                "measures": [{"measure_id", "kind": "isolation"|"quarantine", "reason",
  //                              "start", "end", "end_given", "release_with_test_from",
  //                              "rule_set"}],
  //                "pending_swabs": [{"swab_id", "kind": "molecular"|"antigen",
  //                                   "requested_on", "collected_on"}]}],
  //  "actions": {"results_to_read": [{"person_id", "swab_id", "outcome", "corrected"}],
  //              "measures_ending": [{"person_id", "measure_id", "kind", "end"}],
  //              "release_tests_due": [{"person_id", "measure_id", "kind",
  //                                     "release_with_test_from"}]}}
  // Patients sorted by person id, every one listed (empty arrays when idle). case_open: a
  // positive swab collected after the last closure (a correction can close the case).
  // Measures: those not ended by a MeasureEnded and running on `today` (start <= today <
  // end). "end" is the day the measure is over, fixed when it was ordered exactly as the
  // person directory fixes it: the operator's end when given (end_given), else the plan of
  // the rule set in force on the start with the vaccination status on the start day (its
  // start when the plan requires no quarantine, start + 14 when no set is in force);
  // release_with_test_from and rule_set come from that plan (null without a set).
  // A swab is pending from its request until a result of any outcome. results_to_read:
  // results and corrections whose report day (Italy) is `today`, in log order (the 7 latest
  // report days of the GP are kept); measures_ending: end == today; release_tests_due:
  // release_with_test_from == today.
  std::optional<boost::json::object> GpJson(std::string_view gp, domain::Date today) const;

 private:
  class Impl;
  Impl* impl_;  // the view's table (KeyedView owns it)
};

}  // namespace caseledger::projections
