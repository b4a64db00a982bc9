// What a read replica makes of one JetStream message of the relay (docs/nats.md): the
// Caseledger-Position header's value and the body, the envelope's public JSON. Pure (no
// NATS), so that the bytes a replica takes from the network are tested and fuzzed alone
// (tests/fuzz/replica_message_fuzz.cc). Private to eventstore/ and its tests.
#pragma once

#include "domain/error.h"
#include "domain/event_json.h"

#include <cstdint>
#include <string_view>

namespace caseledger::eventstore {

// The position a Caseledger-Position header holds: decimal digits only; 0 when it is
// anything else (absent, empty, signed, spaced, above 2^64 - 1).
uint64_t ParsePositionHeader(std::string_view value);

// The envelope of a message whose header says `position`: its body must be one JSON
// object (nesting at most 64 deep) that EnvelopeFromJson reads, at that same position.
// An error (its message saying why) otherwise; a replica stops at such a message rather
// than skip it.
domain::Result<domain::PublicEnvelope> DecodeReplicaMessage(uint64_t position, std::string_view body);

}  // namespace caseledger::eventstore
