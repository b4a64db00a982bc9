// The public JSON form of events and envelopes, as the HTTP API answers them and the NATS
// relay publishes them. Pure: no I/O, no clock.
//
// Conventions: keys are the event fields' snake_case names; dates are "YYYY-MM-DD";
// instants are RFC 3339 in UTC (Timestamp::ToString); enums are their ToString names
// ("molecular", "positive", "student", "negative_test", "recovered", "M"/"F"/"X");
// an optional date that is not set is null.
//
// Personal data (family_name, given_names, tax_code, birth_date, address, phone) only ever
// appears under "personal", and only when the caller asks for it. Without
// include_personal the output holds no personal value at all: that form may go to NATS
// and to callers without a right to personal data (docs/security.md, docs/nats.md).
#pragma once

#include <boost/json/object.hpp>
#include <string>

#include "domain/envelope.h"
#include "domain/error.h"
#include "domain/events.h"

namespace caseledger::domain {

// {"type": "<TypeName>", ...fields}. With include_personal, events that carry personal data
// (PersonRegistered, ResidenceChanged) get a "personal" object holding the non-empty
// personal fields; it is left out when none is set (e.g. after erasure).
// RulesAdopted: "rules" holds the parsed rules_json object, not a string; text that is not
// a JSON object (RuleSet::ToJson never writes one) is kept as a string so nothing is lost.
boost::json::object EventToJson(const Event& event, bool include_personal);

// The envelope metadata plus "event": EventToJson(decoded, include_personal):
// "position", "stream", "version", "type", "schema_version", "recorded_at", "effective_at",
// "actor": {"id", "role"}, "correlation_id", "causation_id", "idempotency_key" (each of
// these three left out when empty), "prev_hash", "hash" (lowercase hex). With
// include_personal, an event whose personal part was erased (envelope.personal_form is
// kErased) has "personal": "erased" in place of the personal object.
// REQUIRES: `decoded` is the event of `envelope` (event_codec.h).
boost::json::object EnvelopeToJson(const Envelope& envelope, const Event& decoded,
                                   bool include_personal);

// 64 lowercase hex digits.
std::string HexHash(const Hash& h);

// The inverse of EventToJson(event, false) (event_from_json.cc): the event with every
// public field; personal fields are left empty (the public form has none). "type" names
// the event; an unknown type, a missing or mistyped field or a bad enum/date is an error.
// Extra keys (e.g. "personal") are ignored.
Result<Event> EventFromJson(const boost::json::object& o);

// The inverse of EnvelopeToJson(envelope, event, false) for the fields a consumer of the
// public form gets: position, stream, version, type, recorded_at, effective_at, actor,
// correlation_id, causation_id and "event". The envelope's body is re-encoded from the
// event (event_codec.h) with the current schema version, `personal` stays empty, and the
// hashes, which cover personal bytes the public form does not carry, are zero.
struct PublicEnvelope {
  Envelope envelope;
  Event event;
};
Result<PublicEnvelope> EnvelopeFromJson(const boost::json::object& o);

}  // namespace caseledger::domain
