// The person aggregate: its state, `Evolve` (state + event -> state) and `Decide`
// (state + command -> events | error). Pure: no clock, no I/O.
#pragma once

#include "domain/commands.h"
#include "domain/decision.h"
#include "domain/error.h"
#include "domain/events.h"
#include "domain/rules.h"

#include <optional>
#include <string>
#include <vector>

namespace caseledger::domain {

struct SwabState {
  std::string swab_id;
  SwabKind kind = SwabKind::kMolecular;
  std::string reason;
  std::string requested_by;
  Timestamp requested_at;  // zero: unknown (requests of schema 1)
  bool collected = false;
  Timestamp collected_at;
  std::string holder_lab;  // the laboratory holding the sample; empty: unknown (schema 1)
  std::optional<Outcome> outcome;  // current outcome (after corrections)
  std::string lab_id;
  Timestamp reported_at;
  int corrections = 0;
};

struct MeasureState {
  uint32_t id = 0;
  MeasureKind kind = MeasureKind::kIsolation;
  Date start;
  std::optional<Date> given_end;  // set by the operator; else the rules in force decide
  std::string reason;
  std::string source_case;
  std::optional<Date> ended_on;
  MeasureEndReason end_reason = MeasureEndReason::kElapsed;

  bool active() const { return !ended_on.has_value(); }
};

struct Enrolment {
  std::string school;
  std::string class_label;
  SchoolRole role = SchoolRole::kStudent;
  bool operator==(const Enrolment&) const = default;
};

struct PersonState {
  bool registered = false;
  std::string person_id;
  uint64_t version = 0;  // stream version of the last event applied
  Sex sex = Sex::kUnknown;
  std::string residence_istat;
  Personal personal;
  bool erased = false;
  std::string gp_id;
  std::vector<Enrolment> enrolments;
  std::vector<SwabState> swabs;
  std::vector<MeasureState> measures;
  std::vector<Dose> doses;
  std::vector<ContactReported> contacts;
  bool hospitalized = false;
  bool in_icu = false;
  // An episode opens with a positive result and closes with CaseClosed; a later positive
  // opens a new episode (reinfection). Death is final.
  bool case_open = false;
  std::optional<CaseOutcome> last_closure;
  std::optional<Date> closed_on;
  std::optional<Date> last_positive;  // collection day of the last positive swab

  bool deceased() const { return last_closure == CaseOutcome::kDeceased; }
  const SwabState* FindSwab(std::string_view swab_id) const;
  const MeasureState* FindMeasure(uint32_t id) const;
  const MeasureState* ActiveMeasure(MeasureKind kind) const;
};

// Applies one event of this person's stream. Events are facts: Evolve never rejects.
void Evolve(PersonState& state, const Event& event);

// Decides a command against the current state. On success the events are in stream order.
Result<Decision> Decide(const PersonState& state, const PersonCommand& command,
                        const DecideContext& context);

}  // namespace caseledger::domain
