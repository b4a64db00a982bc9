// The server's memory by part (the store's and the views' RocksDB, the views' caches, the
// API's person cache, the allocator), on /metrics and in one log line once the views are ready: what the memory
// budget (serve --memory-budget, docs/operations.md) bounds, and what it does not.
#pragma once

#include "api/metrics.h"
#include "api/person_cache.h"
#include "eventstore/event_store.h"
#include "serving/live_views.h"

#include <string>

namespace caseledger::api {

// Gauges caseledger_memory_*_bytes, read at scrape time. `store`, `views` and `people`
// outlive `metrics`' use.
void AddMemoryGauges(HttpMetrics& metrics, const eventstore::EventStore& store, const serving::LiveViews& views,
                     const PersonCache& people);

// "resident 412 MiB (allocated 357 MiB, dirty 3 MiB); store: block cache 12 MiB, ..."
std::string MemoryLine(const eventstore::EventStore& store, const serving::LiveViews& views, const PersonCache& people);

}  // namespace caseledger::api
