// Private to projections/: what several consumers of one event derive from it the same way
// (its effective day, the day of its own instant, its swab id's hash), computed once per event by the batch's reader
// (DecodedBatch::keys, on the reading thread) and handed to the fold and the views with the
// event (LogEvent::keys).
#pragma once

#include "domain/envelope.h"
#include "domain/events.h"
#include "domain/time.h"

#include <cstdint>
#include <string_view>
#include <variant>

namespace caseledger::projections {

// A swab id as the person records keep it (SwabRecord::id_hash): FNV-1a 64, stable across
// builds, unlike std::hash.
inline uint64_t SwabIdHash(std::string_view swab_id) {
  uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : swab_id) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

// The swab id an event names (SwabRequested, SwabCollected, SampleHandedOver,
// ResultRecorded, ResultCorrected); null for the others.
inline const std::string* SwabIdOf(const domain::Event& event) {
  return std::visit(
      [](const auto& x) -> const std::string* {
        if constexpr (requires { x.swab_id; }) {
          return &x.swab_id;
        } else {
          return nullptr;
        }
      },
      event);
}

// The civil day of the event's own instant, where it has one the views count by:
// SwabCollected::collected_at, ResultRecorded::reported_at, ResultCorrected::corrected_at
// (null for the others).
inline const domain::Timestamp* OwnInstantOf(const domain::Event& event) {
  if (const auto* x = std::get_if<domain::SwabCollected>(&event)) return &x->collected_at;
  if (const auto* x = std::get_if<domain::ResultRecorded>(&event)) return &x->reported_at;
  if (const auto* x = std::get_if<domain::ResultCorrected>(&event)) return &x->corrected_at;
  return nullptr;
}

// Not the recorded day: a bulk-loaded store records its events in another year than they
// took effect, and ToDate's one-year memo (domain/time.cc) then missed at every other call
// on the reader's thread (~160 instructions a call; docs/benchmarks.md, session 29).
struct EventKeys {
  domain::Date effective_day;  // envelope.effective_at.ToDate()
  domain::Date own_day;        // OwnInstantOf(event)->ToDate(); 0 when it has none
  uint64_t swab_hash = 0;      // SwabIdHash(*SwabIdOf(event)); 0 when it names none
  static EventKeys Of(const domain::Envelope& envelope, const domain::Event& event) {
    EventKeys keys;
    keys.effective_day = envelope.effective_at.ToDate();
    if (const domain::Timestamp* at = OwnInstantOf(event)) keys.own_day = at->ToDate();
    if (const std::string* id = SwabIdOf(event)) keys.swab_hash = SwabIdHash(*id);
    return keys;
  }
};

}  // namespace caseledger::projections
