// A person's case history for auditors (docs/api.md, replay/README.md): every event of the person's stream
// with its envelope metadata (position, stream version, type, schema version, recorded-at,
// effective-at, actor id and role, correlation, causation, idempotency key, chain hashes),
// and corrections linked both ways: a ResultCorrected carries "corrects" (the position of
// the result or correction it replaced) and that event "corrected_by" (positions).
// Shared by GET /v1/people/{id}/history and `caseledger history`.
#pragma once

#include "domain/envelope.h"
#include "domain/time.h"
#include "eventstore/event_store.h"

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <vector>

namespace caseledger::replay {

struct HistoryOptions {
  // Only events recorded at or before this instant (the registry's knowledge then).
  std::optional<domain::Timestamp> as_of;
  // Personal fields as the store gives them: open, "erased" (key destroyed), or "sealed"
  // (a store opened without the master key).
  bool include_personal = true;
};

// {"person_id", "version", "as_of": RFC 3339 | null, "events": [envelope..., with
//  "corrects"/"corrected_by" where they apply]}. kNotFound for a person with no event (at
// as_of: kNotFound too); kCorruption for an event that does not decode.
eventstore::StoreResult<boost::json::object> PersonHistory(const eventstore::EventStore& store,
                                                           const std::string& person_id,
                                                           const HistoryOptions& options);

// One block per event for a terminal:
//   #1234 v3 2020-10-21T09:12:00Z (effective 2020-10-20T08:00:00Z) ResultRecorded s1
//         by lab-7 (lab) correlation c-1 causation -
//         {"swab_id": ..., ...}
//         corrected by #1301
std::string HistoryText(const boost::json::object& history);

}  // namespace caseledger::replay
