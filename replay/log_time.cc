#include "replay/log_time.h"

namespace caseledger::replay {

eventstore::StoreResult<uint64_t> LastPositionRecordedBy(const eventstore::EventStore& store, domain::Timestamp t) {
  uint64_t lo = 0, hi = store.CommittedPosition();  // answer in [lo, hi]
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo + 1) / 2;
    auto e = store.ReadLog(mid, 1);
    if (!e) return e.error();
    if (e->empty()) return eventstore::StoreError(eventstore::StoreErrorCode::kCorruption, "log gap", 0, mid);
    if (e->front().recorded_at <= t) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return lo;
}

}  // namespace caseledger::replay
