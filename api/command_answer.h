// A command's answer (201): {position, first_position, stream, version, person_id, and the
// ids a client needs from its events: person_id, swab_id, measure_id}, with its ETag,
// X-Position, Idempotent-Replayed and, for a registration, Location headers. The same
// answer for the first append and for a replay of its idempotency key.
#pragma once

#include "api/http.h"
#include "domain/events.h"
#include "eventstore/event_store.h"

#include <string>
#include <vector>

namespace caseledger::api {

// `events` are the command's (not empty), `person_id` the person it was on (empty: none,
// or a registration, whose id comes from its event).
Response CommandAnswer(const eventstore::AppendResult& r, const std::vector<domain::Event>& events,
                       const std::string& person_id);

}  // namespace caseledger::api
