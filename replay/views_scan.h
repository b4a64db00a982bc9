// Read-only access to a views database (projections/FORMAT.md) for comparisons: works
// while a runner of this or another process has it open (RocksDB read-only open, no lock),
// and sees what was written when it opened.
#pragma once

#include "eventstore/event_store.h"

#include <functional>
#include <string>
#include <string_view>

namespace caseledger::replay {

// Every entry in key order; `visit` returns false to stop.
eventstore::StoreResult<void> ScanViewsDb(const std::string& path,
                                          const std::function<bool(std::string_view, std::string_view)>& visit);

// The "checkpoint" entry (0 when missing).
eventstore::StoreResult<uint64_t> ViewsCheckpoint(const std::string& path);

}  // namespace caseledger::replay
