#include "domain/person.h"

#include <algorithm>

namespace caseledger::domain {
namespace {

SwabState* MutableSwab(PersonState& s, const std::string& id) {
  return const_cast<SwabState*>(s.FindSwab(id));
}

struct Applier {
  PersonState& s;

  void operator()(const PersonRegistered& e) {
    s.registered = true;
    s.person_id = e.person_id;
    s.sex = e.sex;
    s.residence_istat = e.residence_istat;
    s.personal = e.personal;
  }
  void operator()(const ResidenceChanged& e) {
    s.residence_istat = e.to_istat;
    if (!e.personal.address.empty()) s.personal.address = e.personal.address;
  }
  void operator()(const GpAssigned& e) { s.gp_id = e.gp_id; }
  void operator()(const SchoolEnrolled& e) {
    s.enrolments.push_back({e.school, e.class_label, e.role});
  }
  void operator()(const SchoolLeft& e) {
    std::erase_if(s.enrolments, [&](const Enrolment& en) {
      return en.school == e.school && en.class_label == e.class_label;
    });
  }
  void operator()(const SwabRequested& e) {
    SwabState swab;
    swab.swab_id = e.swab_id;
    swab.kind = e.kind;
    swab.reason = e.reason;
    swab.requested_by = e.requested_by;
    swab.requested_at = e.requested_at;
    s.swabs.push_back(std::move(swab));
  }
  void operator()(const SwabCollected& e) {
    if (SwabState* swab = MutableSwab(s, e.swab_id)) {
      swab->collected = true;
      swab->collected_at = e.collected_at;
      swab->holder_lab = e.lab_id;
    }
  }
  void operator()(const SampleHandedOver& e) {
    if (SwabState* swab = MutableSwab(s, e.swab_id)) swab->holder_lab = e.to_lab;
  }
  void operator()(const ResultRecorded& e) {
    SwabState* swab = MutableSwab(s, e.swab_id);
    if (!swab) return;
    swab->outcome = e.outcome;
    swab->lab_id = e.lab_id;
    swab->reported_at = e.reported_at;
    RecomputeEpisode();
  }
  void operator()(const ResultCorrected& e) {
    SwabState* swab = MutableSwab(s, e.swab_id);
    if (!swab) return;
    swab->outcome = e.outcome;
    ++swab->corrections;
    RecomputeEpisode();
  }
  void operator()(const IsolationOrdered& e) {
    s.measures.push_back({e.measure_id, MeasureKind::kIsolation, e.start, e.end, e.reason, {}, {}, {}});
  }
  void operator()(const QuarantineOrdered& e) {
    s.measures.push_back(
        {e.measure_id, MeasureKind::kQuarantine, e.start, e.end, e.reason, e.source_case, {}, {}});
  }
  void operator()(const MeasureEnded& e) {
    for (MeasureState& m : s.measures) {
      if (m.id == e.measure_id) {
        m.ended_on = e.at;
        m.end_reason = e.reason;
      }
    }
  }
  void operator()(const ContactReported& e) { s.contacts.push_back(e); }
  void operator()(const VaccinationRecorded& e) { s.doses.push_back({int(e.dose), e.date}); }
  void operator()(const Hospitalized&) { s.hospitalized = true; }
  void operator()(const IcuAdmitted&) {
    s.hospitalized = true;
    s.in_icu = true;
  }
  void operator()(const Discharged&) {
    s.hospitalized = false;
    s.in_icu = false;
  }
  void operator()(const CaseClosed& e) {
    s.case_open = false;
    s.last_closure = e.outcome;
    s.closed_on = e.at;
    s.hospitalized = false;
    s.in_icu = false;
  }
  void operator()(const PersonalDataErased&) {
    s.erased = true;
    s.personal = Personal{};
  }
  // Events of other streams never reach a person.
  void operator()(const ClassQuarantineOrdered&) {}
  void operator()(const RulesAdopted&) {}
  void operator()(const AccessGranted&) {}
  void operator()(const AccessRevoked&) {}

  // The episode follows the results as they stand now: a positive corrected to negative
  // no longer holds a case open. A case is open while a positive swab was collected after
  // the last closure (or there was none).
  void RecomputeEpisode() {
    s.last_positive.reset();
    for (const SwabState& swab : s.swabs) {
      if (swab.outcome != Outcome::kPositive) continue;
      Date day = swab.collected_at.ToDate();
      if (!s.last_positive || *s.last_positive < day) s.last_positive = day;
    }
    s.case_open = !s.deceased() && s.last_positive && (!s.closed_on || *s.last_positive > *s.closed_on);
  }
};

}  // namespace

const SwabState* PersonState::FindSwab(std::string_view swab_id) const {
  auto it = std::find_if(swabs.begin(), swabs.end(),
                         [&](const SwabState& s) { return s.swab_id == swab_id; });
  return it == swabs.end() ? nullptr : &*it;
}

const MeasureState* PersonState::FindMeasure(uint32_t id) const {
  auto it = std::find_if(measures.begin(), measures.end(),
                         [&](const MeasureState& m) { return m.id == id; });
  return it == measures.end() ? nullptr : &*it;
}

const MeasureState* PersonState::ActiveMeasure(MeasureKind kind) const {
  for (const MeasureState& m : measures) {
    if (m.kind == kind && m.active()) return &m;
  }
  return nullptr;
}

void Evolve(PersonState& state, const Event& event) {
  std::visit(Applier{state}, event);
  ++state.version;
}

}  // namespace caseledger::domain
