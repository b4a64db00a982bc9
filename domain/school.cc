#include "domain/school.h"

#include "domain/validation.h"

namespace caseledger::domain {

void Evolve(SchoolState& state, const Event& event) {
  if (const auto* e = std::get_if<ClassQuarantineOrdered>(&event)) {
    state.class_quarantines.push_back(*e);
  }
  ++state.version;
}

Result<Decision> Decide(const SchoolState& state, const SchoolCommand& command,
                        const DecideContext& context) {
  const auto& c = std::get<OrderClassQuarantine>(command);
  FieldErrors errors;
  errors.Take(ValidateSchoolCode(state.school, "school"));
  auto label = errors.Take(ValidateClassLabel(c.class_label, "class"));
  errors.Take(ValidateEffectiveDate(c.start, context.now, "start"));
  if (c.end && *c.end < c.start) errors.Add("end", "measure end is before its start");
  if (c.reason.empty()) errors.Add("reason", "reason is required");
  if (!errors.empty()) return errors.ToError();
  for (const ClassQuarantineOrdered& q : state.class_quarantines) {
    if (q.class_label == *label && q.start == c.start) {
      return Error::Conflict("class " + *label + " already has a quarantine starting " +
                             c.start.ToString());
    }
  }
  Decision d;
  d.events.push_back({ClassQuarantineOrdered{*label, c.start, c.reason, c.end},
                      Timestamp::StartOfDay(c.start)});
  return d;
}

}  // namespace caseledger::domain
