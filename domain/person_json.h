// The state of a person as the API answers it (GET /v1/people/{id}), with the measure end
// dates computed by the rules in force. Pure: no I/O; "today" comes in as an option.
#pragma once

#include <boost/json/object.hpp>

#include "domain/person.h"
#include "domain/reference.h"
#include "domain/rules.h"

namespace caseledger::domain {

struct PersonJsonOptions {
  bool include_personal = true;  // false: no personal value appears anywhere in the answer
  Date today;                    // the day the vaccination status is given for
  const ReferenceData* reference = nullptr;  // null: residence names are null
  const RuleBook* rules = nullptr;           // null: computed end dates are null
};

// Keys, in order (dates "YYYY-MM-DD", instants RFC 3339, enums by their ToString names;
// values that do not exist are null, never ""):
// - "id", "version", "sex"
// - "residence": {"istat", "municipality" (name), "province" (abbreviation, "TO"), "asl"};
//   the last three from options.reference
// - "personal": the non-empty personal fields and "erased" (bool); only with include_personal
// - "gp_id"
// - "enrolments": [{"school", "class", "role"}]
// - "vaccination": {"doses": [{"dose", "date"}], "status"}: the status on options.today by
//   ClassifyVaccination, with closed_on as the recovery when the last closure is recovered
// - "case": {"open", "last_positive", "closure": {"outcome", "on"} | null}
// - "hospital": {"hospitalized", "in_icu"}
// - "swabs": [{"swab_id", "kind", "reason", "requested_by", "collected", "collected_at",
//   "outcome", "lab_id", "reported_at", "corrections"}]; collected_at is null until
//   collected, outcome/lab_id/reported_at until a result
// - "measures": [{"measure_id", "kind" ("isolation"|"quarantine"), "reason", "source_case",
//   "start", "end", "end_given", "release_with_test_from", "max_end", "quarantine_required",
//   "rule_set", "status" ("active"|"ended"), "ended_on", "end_reason"}].
//   The plan is RuleSet::Plan of the set in force on the start day, with the vaccination
//   status on the start day. "end" is the operator's end when given (end_given: true), else
//   the plan's end; the other plan fields (release_with_test_from, max_end,
//   quarantine_required, rule_set) come from the plan either way and are null when no rule
//   set is in force on the start day (then "end" is null too unless given).
// - "contacts": [{"contact_of", "last_exposure"}]
// REQUIRES: options.reference and options.rules, when set, outlive the call.
boost::json::object PersonToJson(const PersonState& state, const PersonJsonOptions& options);

}  // namespace caseledger::domain
