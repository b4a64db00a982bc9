// Private to the GP view (gp_view.cc, gp_view_patient_rows.cc): what a patient's status
// (gp_rows::PatientStatus) becomes with an event of theirs, read from their record as it was
// before the event; and the fold that keeps the status beside the record when the view is
// attached (MakePatientRows).
#pragma once

#include "projections/gp_view_rows.h"
#include "projections/person_internal.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace caseledger::projections::gp_rows {

// A measure with the end the directory fixes (`end`, else internal::PlannedEnd: the given
// end, else the plan of the set in force on the start with the vaccination status on that
// day), and the plan's release-with-test day and rule set.
inline MeasureStatus Plan(const domain::RuleBook& rules, const PersonRecord& r, uint32_t id, bool isolation,
                          Date start, std::optional<Date> given_end, const std::string& reason,
                          std::optional<Date> end = std::nullopt) {
  if (!end) end = internal::PlannedEnd(&rules, r, isolation, start, reason, given_end);
  MeasureStatus m{id, isolation, start, *end, {}, given_end.has_value(), reason, {}};
  if (const domain::RuleSet* rs = rules.InForce(start)) {
    const domain::MeasurePlan plan = rs->Plan(
        {isolation ? domain::MeasureKind::kIsolation : domain::MeasureKind::kQuarantine, start,
         reason, domain::ClassifyVaccination(r.doses, r.last_recovery(), start)});
    m.release_with_test_from = plan.release_with_test_from;
    m.rule_set = plan.rule_set_id;
  }
  return m;
}

// The status of a patient who had no GP before: open case and measures from the record.
inline std::shared_ptr<PatientStatus> FromRecord(const domain::RuleBook& rules, const PersonRecord& r) {
  PatientStatus s;
  s.case_open = r.case_open;
  for (const ActiveMeasure& a : r.measures) {
    s.measures.push_back(Plan(rules, r, a.measure_id, a.isolation, a.start, a.given_end, a.reason, a.end));
  }
  return s.idle() ? nullptr : std::make_shared<PatientStatus>(std::move(s));
}

// Whether the case is open after a result or correction (the directory's episode rule).
inline bool OpenAfter(const PersonRecord& r, uint64_t swab_hash, domain::Outcome outcome) {
  return internal::EpisodeWith(r, swab_hash, static_cast<uint8_t>(outcome)).open;
}

// What an event of a patient (not GpAssigned) changes in their status: calls
// update(change), change a function of PatientStatus& returning whether it changed the
// status (exactly: the status differs from what it was), for the events that may change it.
template <class Update>
void StatusChange(const domain::RuleBook& rules, const LogEvent& e, const PersonRecord& person, Update&& update) {
  using P = PatientStatus;
  if (const auto* x = std::get_if<domain::SwabRequested>(&e.event)) {
    const Date day = e.EffectiveDay();
    update([&](P& p) {
      p.pending.push_back({InlineId<40>(x->swab_id), x->kind, day, {}});
      return true;
    });
  } else if (const auto* x = std::get_if<domain::SwabCollected>(&e.event)) {
    update([&](P& p) {
      const Date day = e.OwnDay(x->collected_at);
      bool changed = false;
      for (PendingSwab& w : p.pending) {
        if (w.swab_id.view() != x->swab_id || w.collected_on == day) continue;
        w.collected_on = day;
        changed = true;
      }
      return changed;
    });
  } else if (const auto* x = std::get_if<domain::ResultRecorded>(&e.event)) {
    const bool open = OpenAfter(person, e.SwabHash(x->swab_id), x->outcome);
    update([&](P& p) {
      const bool changed =
          std::erase_if(p.pending, [&](const PendingSwab& w) { return w.swab_id.view() == x->swab_id; }) > 0 ||
          p.case_open != open;
      p.case_open = open;
      return changed;
    });
  } else if (const auto* x = std::get_if<domain::ResultCorrected>(&e.event)) {
    const bool open = OpenAfter(person, e.SwabHash(x->swab_id), x->outcome);
    update([&](P& p) { return std::exchange(p.case_open, open) != open; });
  } else if (const auto* x = std::get_if<domain::IsolationOrdered>(&e.event)) {
    const MeasureStatus m = Plan(rules, person, x->measure_id, true, x->start, x->end, x->reason);
    update([&](P& p) {
      p.measures.push_back(m);
      return true;
    });
  } else if (const auto* x = std::get_if<domain::QuarantineOrdered>(&e.event)) {
    const MeasureStatus m = Plan(rules, person, x->measure_id, false, x->start, x->end, x->reason);
    update([&](P& p) {
      p.measures.push_back(m);
      return true;
    });
  } else if (const auto* x = std::get_if<domain::MeasureEnded>(&e.event)) {
    update([&](P& p) {
      return std::erase_if(p.measures, [&](const MeasureStatus& m) { return m.id == x->measure_id; }) > 0;
    });
  } else if (std::holds_alternative<domain::CaseClosed>(e.event)) {
    update([](P& p) { return std::exchange(p.case_open, false); });
  }
}

// The patient rows of one person partition's people (PersonFold; gp_view_patient_rows.cc),
// for the view attached to its stored entries. Its ForgetChanges forgets the patients who
// left a GP since the last Persist.
std::unique_ptr<PersonFold> MakePatientRows(std::shared_ptr<const domain::RuleBook> rules);

}  // namespace caseledger::projections::gp_rows
