// What `Decide` gets besides state and command, and what it answers.
#pragma once

#include "domain/events.h"
#include "domain/reference.h"
#include "domain/time.h"

#include <string>
#include <vector>

namespace caseledger::domain {

// The clock and ids come in as arguments so that decide stays pure and replayable.
struct DecideContext {
  Timestamp now;
  const ReferenceData* reference = nullptr;  // required for commands that name municipalities
  std::string new_person_id;                 // id for RegisterPerson (a fresh ULID)
};

struct Decided {
  Event event;
  Timestamp effective_at;  // when it happened (a result: at sampling)
};

struct Decision {
  std::vector<Decided> events;
  // Keys that must be unique across all streams ("swab/<id>", "taxcode/<code>"); the
  // store claims them atomically with the append, or rejects the append as a conflict.
  std::vector<std::string> claims;
};

}  // namespace caseledger::domain
