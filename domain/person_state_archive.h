// A person's state (PersonState) in cereal binary, for the spill files of the bounded-memory
// loaders (the demo generator, `caseledger import`): read back by the process that wrote
// it, so the format is not versioned and never stored. Read it with BoundedBinaryInputArchive.
#pragma once

#include "domain/person.h"

#include <cereal/types/common.hpp>
#include <cereal/types/optional.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>

namespace caseledger::domain {

template <class A>
void serialize(A& ar, SwabState& s) {
  ar(s.swab_id, s.kind, s.reason, s.requested_by, s.requested_at, s.collected, s.collected_at, s.holder_lab,
     s.outcome, s.lab_id, s.reported_at, s.corrections);
}
template <class A>
void serialize(A& ar, MeasureState& m) {
  ar(m.id, m.kind, m.start, m.given_end, m.reason, m.source_case, m.ended_on, m.end_reason);
}
template <class A>
void serialize(A& ar, Enrolment& e) {
  ar(e.school, e.class_label, e.role);
}
template <class A>
void serialize(A& ar, Dose& d) {
  ar(d.number, d.date);
}
template <class A>
void serialize(A& ar, PersonState& s) {
  ar(s.registered, s.person_id, s.version, s.sex, s.residence_istat, s.personal, s.erased, s.gp_id, s.enrolments,
     s.swabs, s.measures, s.doses, s.contacts, s.hospitalized, s.in_icu, s.case_open, s.last_closure, s.closed_on,
     s.last_positive);
}

}  // namespace caseledger::domain
