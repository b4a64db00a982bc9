// The envelope: one event as stored in the log, with all its metadata (docs/formats.md).
#pragma once

#include "domain/time.h"

#include <array>
#include <cstdint>
#include <string>

namespace caseledger::domain {

struct Actor {
  std::string id;    // token subject, or "system" for server-made events
  std::string role;  // role the actor held when acting
  bool operator==(const Actor&) const = default;
};

using Hash = std::array<uint8_t, 32>;  // SHA-256

// What an envelope's `personal` holds after a read. The log stores personal parts sealed
// (encrypted per person, eventstore/FORMAT.md); the hash covers the sealed bytes.
enum class PersonalForm : uint8_t {
  kOpen,    // the personal fields in clear (empty when the event has none)
  kSealed,  // recorded, but this read did not open it (log scans; a store without the
            // master key): `personal` is empty
  kErased,  // the person's key was destroyed (PersonalDataErased): `personal` is empty
            // and can never be read again
};

struct Envelope {
  uint64_t position = 0;        // global, gap-free, from 1
  std::string stream;           // "person-<id>", "school-<code>", "rules", "users"
  uint64_t version = 0;         // version of the stream after this event, from 1
  std::string type;             // event type name
  uint32_t schema_version = 0;  // of the body
  Timestamp recorded_at;        // server clock at append
  Timestamp effective_at;       // when it happened (a late result: at sampling)
  Actor actor;
  std::string correlation_id;
  std::string causation_id;
  std::string idempotency_key;
  Hash prev_hash{};             // hash of the envelope at position - 1 (zeros for the first)
  Hash hash{};                  // SHA-256 over prev_hash and this envelope's stored bytes
  std::string body;             // public fields, cereal binary (event_codec.h)
  std::string personal;         // personal fields, cereal binary; empty when none, sealed
                                // or erased
  PersonalForm personal_form = PersonalForm::kOpen;

  bool operator==(const Envelope&) const = default;
};

}  // namespace caseledger::domain
