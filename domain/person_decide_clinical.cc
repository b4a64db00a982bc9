// Decide for the clinical commands of a person: swabs and results, measures, contacts,
// vaccinations, hospital stays and the closure of a case.
#include "domain/person_decide_internal.h"

#include "domain/validation.h"

namespace caseledger::domain::internal {
namespace {

Result<void> RequireAlive(const PersonState& s) {
  if (s.deceased()) return Error::Rule("person is deceased");
  return {};
}

// The swab named by a command, after the same normalisation as at request time. An id as
// the swab holds it (nearly every command's) is found as it is: the ids held were
// normalised when requested, so no other form of an id matches one exactly, and a copy of
// the id to normalise it was ~4 % of the bulk load's generator thread at 1:10.
const SwabState* FindSwab(const PersonState& s, const std::string& swab_id) {
  if (const SwabState* held = s.FindSwab(swab_id)) return held;
  auto id = ValidateSwabId(swab_id, "swab_id");
  return id && *id != swab_id ? s.FindSwab(*id) : nullptr;
}

uint32_t NextMeasureId(const PersonState& s) { return static_cast<uint32_t>(s.measures.size()) + 1; }

// A measure may not start before the registry's first day nor in the future, and may not
// end before it starts.
void CheckMeasureDates(Date start, const std::optional<Date>& end, Timestamp now,
                       FieldErrors& errors) {
  errors.Take(ValidateEffectiveDate(start, now, "start"));
  if (end && *end < start) errors.Add("end", "measure end is before its start");
}

}  // namespace

Result<Decision> DecideClinical(const PersonState& s, const RequestSwab& c, const DecideContext& ctx) {
  auto alive = RequireAlive(s);
  if (!alive) return alive.error();
  auto id = ValidateSwabId(c.swab_id, "swab_id");
  if (!id) return id.error();
  if (s.FindSwab(*id)) return Error::Conflict("swab " + *id + " is already registered");
  Timestamp at = ctx.now;
  if (c.requested_at.micros != 0) {
    auto given = ValidateEffectiveInstant(c.requested_at, ctx.now, "requested_at");
    if (!given) return given.error();
    at = *given;
  }
  std::vector<std::string> claims{"swab/" + *id};
  SwabRequested e{std::move(*id), c.kind, c.reason.empty() ? "screening" : c.reason, c.requested_by, at};
  return One(std::move(e), at, std::move(claims));
}

Result<Decision> DecideClinical(const PersonState& s, const CollectSwab& c, const DecideContext& ctx) {
  const SwabState* swab = FindSwab(s, c.swab_id);
  if (!swab) return Error::NotFound("swab " + c.swab_id + " was not requested for this person");
  if (swab->collected) return Error::Rule("swab " + c.swab_id + " is already collected");
  FieldErrors errors;
  auto at = errors.Take(ValidateEffectiveInstant(c.collected_at, ctx.now, "collected_at"));
  auto lab = errors.Take(ValidateLabId(c.lab_id, "lab_id"));
  // A sample is not taken before it was asked for: that is how a backdated collection
  // would rewrite a day of the bulletin already published.
  if (at && swab->requested_at.micros != 0 && at->micros < swab->requested_at.micros - kCollectionSkewMicros) {
    errors.Add("collected_at", "collection precedes the request (" + swab->requested_at.ToString() + ")");
  }
  if (!errors.empty()) return errors.ToError();
  return One(SwabCollected{swab->swab_id, *at, c.site, *lab}, *at, {});
}

Result<Decision> DecideClinical(const PersonState& s, const HandOverSample& c, const DecideContext& ctx) {
  const SwabState* swab = FindSwab(s, c.swab_id);
  if (!swab) return Error::NotFound("swab " + c.swab_id + " is unknown");
  if (!swab->collected) return Error::Rule("swab " + c.swab_id + " has not been collected");
  if (swab->outcome) return Error::Rule("swab " + c.swab_id + " already has a result");
  FieldErrors errors;
  auto lab = errors.Take(ValidateLabId(c.to_lab, "to_lab"));
  Timestamp when = c.at.micros != 0 ? c.at : ctx.now;
  auto at = errors.Take(ValidateEffectiveInstant(when, ctx.now, "at"));
  if (at && *at < swab->collected_at) errors.Add("at", "hand-over before collection");
  if (lab && *lab == swab->holder_lab) errors.Add("to_lab", "the laboratory already holds the sample");
  if (!errors.empty()) return errors.ToError();
  return One(SampleHandedOver{swab->swab_id, swab->holder_lab, *lab, *at}, *at, {});
}

Result<Decision> DecideClinical(const PersonState& s, const RecordResult& c, const DecideContext& ctx) {
  const SwabState* swab = FindSwab(s, c.swab_id);
  if (!swab) return Error::NotFound("swab " + c.swab_id + " is unknown");
  if (!swab->collected) return Error::Rule("swab " + c.swab_id + " has not been collected");
  if (swab->outcome) {
    return Error::Rule("swab " + c.swab_id + " already has a result; send a correction");
  }
  FieldErrors errors;
  auto lab = errors.Take(ValidateLabId(c.lab_id, "lab_id"));
  auto at = errors.Take(ValidateEffectiveInstant(c.reported_at, ctx.now, "reported_at"));
  if (at && *at < swab->collected_at) errors.Add("reported_at", "result reported before collection");
  if (lab && !swab->holder_lab.empty() && *lab != swab->holder_lab) {
    errors.Add("lab_id", "the result comes from the laboratory holding the sample");
  }
  if (!errors.empty()) return errors.ToError();
  // Effective at sampling: a late report still belongs to the day the swab was taken.
  return One(ResultRecorded{swab->swab_id, c.outcome, *lab, *at}, swab->collected_at, {});
}

Result<Decision> DecideClinical(const PersonState& s, const CorrectResult& c, const DecideContext& ctx) {
  const SwabState* swab = FindSwab(s, c.swab_id);
  if (!swab) return Error::NotFound("swab " + c.swab_id + " is unknown");
  if (!swab->outcome) return Error::Rule("swab " + c.swab_id + " has no result to correct");
  if (*swab->outcome == c.outcome) {
    return Error::Rule(std::string("swab result is already ") + ToString(c.outcome));
  }
  if (c.reason.size() < 3) return Error::Invalid("reason", "a correction needs a reason");
  std::string lab = c.lab_id.empty() ? swab->lab_id : c.lab_id;
  if (auto v = ValidateLabId(lab, "lab_id"); !v) return v.error();
  return One(ResultCorrected{swab->swab_id, *swab->outcome, c.outcome, c.reason, lab, ctx.now},
             swab->collected_at, {});
}

Result<Decision> DecideClinical(const PersonState& s, const OrderIsolation& c, const DecideContext& ctx) {
  auto alive = RequireAlive(s);
  if (!alive) return alive.error();
  if (!s.case_open && s.last_closure) {
    return Error::Rule("case is closed; a new positive result reopens it");
  }
  if (s.ActiveMeasure(MeasureKind::kIsolation)) return Error::Rule("person is already in isolation");
  FieldErrors errors;
  CheckMeasureDates(c.start, c.end, ctx.now, errors);
  if (c.reason.empty()) errors.Add("reason", "reason is required");
  if (!errors.empty()) return errors.ToError();
  Decision d;
  // Isolation supersedes a running quarantine.
  if (const MeasureState* q = s.ActiveMeasure(MeasureKind::kQuarantine)) {
    Date at = std::max(q->start, c.start);
    d.events.push_back({MeasureEnded{q->id, at, MeasureEndReason::kRevoked}, Timestamp::StartOfDay(at)});
  }
  uint32_t id = NextMeasureId(s);
  d.events.push_back({IsolationOrdered{id, c.start, c.reason, c.end}, Timestamp::StartOfDay(c.start)});
  return d;
}

Result<Decision> DecideClinical(const PersonState& s, const OrderQuarantine& c, const DecideContext& ctx) {
  auto alive = RequireAlive(s);
  if (!alive) return alive.error();
  if (s.ActiveMeasure(MeasureKind::kIsolation)) return Error::Rule("person is in isolation");
  if (s.ActiveMeasure(MeasureKind::kQuarantine)) return Error::Rule("person is already in quarantine");
  FieldErrors errors;
  CheckMeasureDates(c.start, c.end, ctx.now, errors);
  if (c.reason.empty()) errors.Add("reason", "reason is required");
  std::string source_case;
  if (!c.source_case.empty()) {
    source_case = errors.Take(ValidatePersonId(c.source_case, "source_case")).value_or("");
    if (source_case == s.person_id) errors.Add("source_case", "a person is not their own contact");
  }
  if (!errors.empty()) return errors.ToError();
  return One(QuarantineOrdered{NextMeasureId(s), c.start, c.reason, source_case, c.end},
             Timestamp::StartOfDay(c.start), {});
}

Result<Decision> DecideClinical(const PersonState& s, const EndMeasure& c, const DecideContext& ctx) {
  const MeasureState* m = s.FindMeasure(c.measure_id);
  if (!m) return Error::NotFound("measure " + std::to_string(c.measure_id) + " not found");
  if (!m->active()) return Error::Rule("measure " + std::to_string(c.measure_id) + " has already ended");
  if (c.at < m->start) return Error::Invalid("at", "measure end is before its start");
  auto at = ValidateEffectiveDate(c.at, ctx.now, "at");
  if (!at) return at.error();
  return One(MeasureEnded{m->id, *at, c.reason}, Timestamp::StartOfDay(*at), {});
}

Result<Decision> DecideClinical(const PersonState& s, const ReportContact& c, const DecideContext& ctx) {
  FieldErrors errors;
  std::string contact_of = errors.Take(ValidatePersonId(c.contact_of, "contact_of")).value_or("");
  if (contact_of == s.person_id) errors.Add("contact_of", "a person is not their own contact");
  errors.Take(ValidateEffectiveDate(c.last_exposure, ctx.now, "last_exposure"));
  if (!errors.empty()) return errors.ToError();
  return One(ContactReported{contact_of, c.last_exposure}, Timestamp::StartOfDay(c.last_exposure), {});
}

Result<Decision> DecideClinical(const PersonState& s, const RecordVaccination& c, const DecideContext& ctx) {
  FieldErrors errors;
  if (c.dose < 1 || c.dose > 10) errors.Add("dose", "dose number must be between 1 and 10");
  errors.Take(ValidateEffectiveDate(c.date, ctx.now, "date"));
  if (c.product.empty()) errors.Add("product", "product is required");
  if (!errors.empty()) return errors.ToError();
  if (c.dose != s.doses.size() + 1) {
    return Error::Rule("dose " + std::to_string(c.dose) + " does not follow the " +
                       std::to_string(s.doses.size()) + " recorded");
  }
  if (!s.doses.empty() && c.date < s.doses.back().date) {
    return Error::Rule("dose date is before the previous dose");
  }
  return One(VaccinationRecorded{c.dose, c.date, c.product}, Timestamp::StartOfDay(c.date), {});
}

Result<Decision> DecideClinical(const PersonState& s, const Hospitalize& c, const DecideContext& ctx) {
  auto alive = RequireAlive(s);
  if (!alive) return alive.error();
  if (s.hospitalized) return Error::Rule("person is already in hospital");
  auto at = ValidateEffectiveInstant(c.at, ctx.now, "at");
  if (!at) return at.error();
  return One(Hospitalized{*at, c.facility}, *at, {});
}

Result<Decision> DecideClinical(const PersonState& s, const AdmitToIcu& c, const DecideContext& ctx) {
  auto alive = RequireAlive(s);
  if (!alive) return alive.error();
  if (s.in_icu) return Error::Rule("person is already in intensive care");
  auto at = ValidateEffectiveInstant(c.at, ctx.now, "at");
  if (!at) return at.error();
  return One(IcuAdmitted{*at, c.facility}, *at, {});
}

Result<Decision> DecideClinical(const PersonState& s, const Discharge& c, const DecideContext& ctx) {
  if (!s.hospitalized) return Error::Rule("person is not in hospital");
  auto at = ValidateEffectiveInstant(c.at, ctx.now, "at");
  if (!at) return at.error();
  return One(Discharged{*at, c.facility}, *at, {});
}

Result<Decision> DecideClinical(const PersonState& s, const CloseCase& c, const DecideContext& ctx) {
  if (s.deceased()) return Error::Rule("person is deceased");
  if (!s.case_open) return Error::Rule("person has no open case");
  auto at = ValidateEffectiveDate(c.at, ctx.now, "at");
  if (!at) return at.error();
  if (s.last_positive && *at < *s.last_positive) {
    return Error::Invalid("at", "closure is before the positive swab");
  }
  Decision d;
  for (const MeasureState& m : s.measures) {
    if (m.active()) {
      Date end = std::max(m.start, *at);
      d.events.push_back({MeasureEnded{m.id, end, MeasureEndReason::kCaseClosed}, Timestamp::StartOfDay(end)});
    }
  }
  if (s.hospitalized && c.outcome == CaseOutcome::kRecovered) {
    return Error::Rule("person is in hospital; discharge first");
  }
  d.events.push_back({CaseClosed{c.outcome, *at}, Timestamp::StartOfDay(*at)});
  return d;
}

}  // namespace caseledger::domain::internal
