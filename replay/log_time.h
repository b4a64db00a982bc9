// Positions by time: recorded-at never goes backwards in the log (eventstore/FORMAT.md),
// so "everything recorded up to T" is a prefix, found by binary search.
#pragma once

#include "domain/time.h"
#include "eventstore/event_store.h"

#include <cstdint>

namespace caseledger::replay {

// The last committed position recorded at or before `t` (0: none).
eventstore::StoreResult<uint64_t> LastPositionRecordedBy(const eventstore::EventStore& store, domain::Timestamp t);

}  // namespace caseledger::replay
