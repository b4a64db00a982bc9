// Private to projections/: the bytes the runner's caches take, as the allocator counts
// them, so that their bounds are budgets in bytes (RunnerOptions::person_cache_bytes)
// rather than counts whose bytes grow with each person's history.
#pragma once

#include "projections/person_directory.h"

#include <cstddef>
#include <span>
#include <string_view>

namespace caseledger::projections {

// The size jemalloc hands out for a request of `n` bytes (its size classes: 16-byte steps
// up to 128, then four classes per doubling; 0 for 0).
size_t AllocatedBytes(size_t n);

// What one cached person record takes: the record and its shared_ptr control block, every
// string and vector it owns (capacities, not sizes), and its slot and key in the cache's
// hash table (PersonDirectory).
size_t CachedRecordBytes(std::string_view person_id, const PersonRecord& record);

class PersonFold;
// The same with the person's fold states beside the record (PersonDirectory's entry): what
// each fold says its state takes (PersonFold::StateBytes), `states[k]` being fold k's.
size_t CachedEntryBytes(std::string_view person_id, const PersonRecord& record, std::span<const FoldState> states,
                        std::span<PersonFold* const> folds);
// CachedEntryBytes of a person in `directory` (whose entries hold the states of `folds`);
// 0: not cached.
size_t CachedBytes(const PersonDirectory& directory, std::span<PersonFold* const> folds, std::string_view person_id);

}  // namespace caseledger::projections
