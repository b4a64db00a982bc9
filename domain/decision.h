// What `Decide` gets besides state and command, and what it answers.
#pragma once

#include "domain/events.h"
#include "domain/reference.h"
#include "domain/time.h"

#include <string>
#include <string_view>
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

// Claims on a tax code: "taxcode/<code>". Personal: the store keeps only a keyed hash.
inline constexpr std::string_view kTaxCodeClaimPrefix = "taxcode/";

// Claims whose value is personal data (the store never holds them in clear).
inline bool IsPersonalClaim(std::string_view claim) { return claim.starts_with(kTaxCodeClaimPrefix); }

struct Decision {
  std::vector<Decided> events;
  // Keys that must be unique across all streams ("swab/<id>", "taxcode/<code>"); the
  // store claims them atomically with the append, or rejects the append as a conflict.
  std::vector<std::string> claims;
  // Claims of this stream to give up with the append (erasure: the tax code lookup).
  std::vector<std::string> released_claims;
  // The append erases the stream's personal data: the store destroys its key, so every
  // personal part recorded so far becomes unreadable (PersonalDataErased).
  bool erases_personal_data = false;
};

}  // namespace caseledger::domain
