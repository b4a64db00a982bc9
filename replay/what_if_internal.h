// Private to replay/: what the full what-if (what_if.cc, two shadow rebuilds) and the
// incremental one (what_if_incremental.cc) share, so that both note measures, read figures
// and diff them with the same code: the full one is the incremental one's test oracle.
#pragma once

#include "domain/events.h"
#include "domain/rules.h"
#include "eventstore/event_store.h"
#include "projections/gp_view.h"
#include "projections/municipality_view.h"
#include "projections/person_directory.h"
#include "projections/school_view.h"
#include "replay/what_if.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace caseledger::replay::internal {

using Figures = std::map<std::string, int64_t>;
using CountKey = std::pair<std::string, std::string>;  // view, key
using Counts = std::map<CountKey, Figures>;

// A measure as the rules of one side decide it: over on its planned end (the set in force
// on its start), or earlier when an operator ended it.
struct MeasureOutcome {
  bool isolation = false;
  domain::Date start;
  domain::Date planned_end;
  std::optional<domain::Date> ended_at;
  bool given_end = false;
  domain::Date end() const { return ended_at && *ended_at < planned_end ? *ended_at : planned_end; }
};
using Measures = std::map<uint32_t, MeasureOutcome>;

// After `event` of a person was applied to a directory (`record`: the person's record
// after it, null when not registered): notes a measure ordered (with its planned end, as
// the directory fixed it) or ended in `measures`.
void NoteMeasure(const domain::Event& event, const projections::PersonRecord* record, Measures& measures);

// Calls `visit` for every event of a person stream up to position `until`, in log order,
// with the person's id; stops at the first error `visit` returns.
eventstore::StoreResult<void> ForEachPersonEvent(
    eventstore::EventStore& store, uint64_t until,
    const std::function<eventstore::StoreResult<void>(const domain::Envelope&, std::string_view person)>& visit);
// The event of `env`, decoded without its personal part; kCorruption when it does not decode.
eventstore::StoreResult<domain::Event> DecodeEvent(const domain::Envelope& env);

// A GP's figures: patients, in isolation / quarantine on the day, and the day's measures
// ending and release tests due.
void GpFigures(const projections::GpReport& gp, Figures& out);
// A municipality's figures that the diff compares: the integer ones of the API's answer
// (active_isolations, active_quarantines, currently_positive, cumulative_cases, recovered,
// deceased, new_positives, new_positives_7d).
void MunicipalityFigures(const projections::MunicipalityFigures& m, Figures& out);
// A school's totals (students, staff, positive, in_quarantine, classes,
// classes_not_in_presence).
void SchoolFigures(const projections::SchoolTotals& totals, Figures& out);

// The measure and status changes of one person between the sides (null: no measure).
void DiffPerson(const std::string& id, const Measures* base, const Measures* cand, const domain::RuleBook& base_book,
                const domain::RuleBook& cand_book, WhatIfReport& report);
// The count changes between the sides, in key order.
void DiffCounts(const Counts& base, const Counts& cand, WhatIfReport& report);

// The days on which the two books put different rule sets in force (by content), as
// half-open ranges [from, to) in order; `to` nullopt: every later day.
struct DayRanges {
  std::vector<std::pair<domain::Date, std::optional<domain::Date>>> ranges;
  bool Contains(domain::Date d) const;
  bool empty() const { return ranges.empty(); }
};
DayRanges DaysRulesDiffer(const domain::RuleBook& a, const domain::RuleBook& b);

// The incremental what-if (what_if_incremental.cc) on top of options.live, which holds the
// views at `until` built with `base_book`: fills people_compared, measures, statuses and
// counts of `report` (whose `on` is set).
eventstore::StoreResult<void> RunIncremental(eventstore::EventStore& store, const WhatIfOptions& options,
                                             uint64_t until, std::shared_ptr<const domain::RuleBook> base_book,
                                             std::shared_ptr<const domain::RuleBook> cand_book,
                                             WhatIfReport& report);

}  // namespace caseledger::replay::internal
