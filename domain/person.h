// The person aggregate: its state, `Evolve` (state + event -> state) and `Decide`
// (state + command -> events | error). Pure: no clock, no I/O.
#pragma once

#include "domain/commands.h"
#include "domain/decision.h"
#include "domain/error.h"
#include "domain/events.h"
#include "domain/person_facts.h"
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

// The facts shared with the views' record (residence, GP, enrolments, doses, clinical
// status, the episode: person_facts.h), and what only the aggregate keeps.
struct PersonState : PersonFacts {
  bool registered = false;
  std::string person_id;
  uint64_t version = 0;  // stream version of the last event applied
  Sex sex = Sex::kUnknown;
  Personal personal;
  bool erased = false;
  std::vector<SwabState> swabs;
  std::vector<MeasureState> measures;
  std::vector<ContactReported> contacts;

  // The episode as the swabs' results stand now (PersonFacts::EpisodeWith).
  Episode CurrentEpisode() const;
  // The swab with this id (ids are unique within a person: RequestSwab refuses one held), or
  // null.
  const SwabState* FindSwab(std::string_view swab_id) const;
  const MeasureState* FindMeasure(uint32_t id) const;
  const MeasureState* ActiveMeasure(MeasureKind kind) const;
};

// Applies one event of this person's stream. Events are facts: Evolve never rejects. The
// facts (PersonFacts) move by FactsApplier, as in the views' record.
void Evolve(PersonState& state, const Event& event);

// Decides a command against the current state. On success the events are in stream order.
Result<Decision> Decide(const PersonState& state, const PersonCommand& command,
                        const DecideContext& context);

}  // namespace caseledger::domain
