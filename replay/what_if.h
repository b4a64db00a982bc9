// What-if: the views rebuilt from the log under a candidate rule set, compared with the
// same views rebuilt under the rules of the log (which is what the live views hold: verify
// proves live == rebuild). Both shadows are built from position 1 to the same position in
// fresh directories, never touch the live views and publish nothing (no side
// effects during replay).
//
// Two ways to the same diff (WhatIfOptions::method): the full one rebuilds both shadows;
// the incremental one (the default) takes the live views as the base side and folds again
// only the people the candidate can change (what_if_incremental.cc says why that is
// enough), in seconds rather than two rebuilds. The full one stays as its test oracle.
//
// The diff lists
// - the people whose measure end changes, and those whose status on the reference day
//   changes (isolation / quarantine / none). A measure is over on its planned end (the
//   operator's end when given, else the plan of the set in force on its start), or on the
//   day an operator ended it when that came first: so a set that shortens a quarantine
//   changes the end of one an operator closed later, and not of one closed earlier.
//   Person ids are the server-assigned pseudonymous ids, never a name or tax code;
// - per municipality, school and GP, the counts on the reference day that change;
// - totals.
#pragma once

#include "domain/reference.h"
#include "domain/rules.h"
#include "domain/time.h"
#include "eventstore/event_store.h"
#include "projections/view_set.h"

#include <boost/json/object.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace caseledger::projections {
class ViewRunner;
}

namespace caseledger::replay {

struct WhatIfOptions {
  // The shadows are built in work_dir/whatif-base and work_dir/whatif-candidate (removed
  // before and after).
  std::string work_dir;
  std::shared_ptr<const domain::ReferenceData> reference;
  std::shared_ptr<const domain::RuleSet> candidate;  // adopted after every set of the log
  std::vector<std::string> views;                    // empty: every view
  uint64_t until = 0;                                // last position applied; 0: all committed
  // Day for statuses and counts; default: the effective day of the last event applied.
  std::optional<domain::Date> on;
  std::function<void(const std::string&)> progress;  // a line per step (stderr in the CLI)

  enum class Method { kIncremental, kFull };
  Method method = Method::kIncremental;
  // The incremental method's base: views built with `live_rules`, stopped (not following
  // the log) for the whole call. Used only when it stands at `until` (0: the committed
  // position) and `live_rules` is the log's book there; otherwise the full method runs
  // (progress says why). Not owned.
  const projections::ViewRunner* live = nullptr;
  std::shared_ptr<const domain::RuleBook> live_rules;
  // The views `live` runs, by type (projections::MakeViewSet): the live figures are read
  // from them; without the municipality, school and GP views the full method runs. Not
  // owned.
  projections::TypedViews live_views;
  // Memory the incremental method's working set may take (the affected people are folded
  // again in chunks that fit); 0: 256 MiB. The ids of the affected people, the report and
  // the affected people's school entries come on top.
  size_t memory_budget = 0;
};

struct MeasureChange {
  std::string person_id;
  uint32_t measure_id = 0;
  std::string kind;  // "isolation" | "quarantine"
  domain::Date start;
  std::optional<domain::Date> end_before, end_after;  // nullopt: no such measure on that side
  std::string rule_set_before, rule_set_after;        // in force on the start (empty: none)
};

struct StatusChange {
  std::string person_id;
  std::string before, after;  // "isolation" | "quarantine" | "none"
};

struct CountChange {
  std::string view;  // "municipalities" | "schools" | "gps"
  std::string key;   // ISTAT code, school code, GP id
  std::string field;
  int64_t before = 0, after = 0;
};

struct WhatIfReport {
  uint64_t until = 0;
  domain::Date on;
  std::string candidate_id;
  std::string candidate_effective_from;
  uint64_t people_compared = 0;
  std::string method;           // "incremental" | "full": how it was computed
  uint64_t people_refolded = 0;  // incremental: the people folded again
  std::vector<MeasureChange> measures;
  std::vector<StatusChange> statuses;
  std::vector<CountChange> counts;
  size_t people_changed() const;
};

eventstore::StoreResult<WhatIfReport> RunWhatIf(eventstore::EventStore& store, const WhatIfOptions& options);

std::string WhatIfText(const WhatIfReport& report);
boost::json::object WhatIfJson(const WhatIfReport& report);

}  // namespace caseledger::replay
