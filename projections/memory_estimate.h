// Private to projections/: the bytes the runner's caches take, as the allocator counts
// them, so that their bounds are budgets in bytes (RunnerOptions::person_cache_bytes)
// rather than counts whose bytes grow with each person's history.
#pragma once

#include "projections/person_directory.h"

#include <cstddef>
#include <string_view>

namespace caseledger::projections {

// The size jemalloc hands out for a request of `n` bytes (its size classes: 16-byte steps
// up to 128, then four classes per doubling; 0 for 0).
size_t AllocatedBytes(size_t n);

// What one cached person record takes: the record and its shared_ptr control block, every
// string and vector it owns (capacities, not sizes), and its slot and key in the cache's
// hash table (PersonDirectory).
size_t CachedRecordBytes(std::string_view person_id, const PersonRecord& record);

}  // namespace caseledger::projections
