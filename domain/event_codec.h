// Encoding of event payloads (cereal binary, little-endian) and upcasting of older schema
// versions. The envelope around them is encoded by the event store (eventstore/FORMAT.md).
#pragma once

#include "domain/error.h"
#include "domain/events.h"

#include <string>
#include <string_view>

namespace caseledger::domain {

struct EncodedEvent {
  std::string type;
  uint32_t schema_version = 0;
  std::string body;      // public fields
  std::string personal;  // Personal, or empty when the event carries none
};

EncodedEvent Encode(const Event& event);

// Encode's bytes appended to `out`: the body, then the personal part (none when the event
// carries none), for encoders of many events into one buffer (the bulk load's batches).
struct EncodedSizes {
  std::string_view type;  // static: outlives everything
  uint32_t schema_version = 0;
  size_t body = 0;      // bytes of the body appended
  size_t personal = 0;  // bytes of the personal part appended after it
};
EncodedSizes EncodeTo(const Event& event, std::string& out);

// Decodes a stored payload. An older `schema_version` is upcast to the current struct;
// an unknown type or version, or bytes that do not decode, is an error (corruption or a
// newer writer), never a default-constructed event. Empty `personal` decodes as an empty
// Personal (none recorded, or erased).
Result<Event> Decode(std::string_view type, uint32_t schema_version, std::string_view body,
                     std::string_view personal);
// The same into `out`, which may hold any event: when it holds one of the decoded type, that
// one is decoded into and keeps its strings' memory (a reader decoding many events into a
// few recycled slots). On an error `out` holds some event, unspecified.
Result<void> DecodeInto(std::string_view type, uint32_t schema_version, std::string_view body,
                        std::string_view personal, Event& out);

// The personal part of an event, if the event type has one.
const Personal* PersonalOf(const Event& event);
Personal* PersonalOf(Event& event);

}  // namespace caseledger::domain
