// Private to projections/: the bytes the runner's caches take, as the allocator counts
// them, so that their bounds are budgets in bytes (RunnerOptions::person_cache_bytes)
// rather than counts whose bytes grow with each person's history.
#pragma once

#include "eventstore/process_memory.h"
#include "projections/person_directory.h"

#include <cstddef>
#include <span>
#include <string_view>

namespace caseledger::projections {

using eventstore::AllocatedBytes;  // eventstore/process_memory.h

// What one cached person record takes: the record and its shared_ptr control block, every
// string and vector it owns (capacities, not sizes), and its slot and key in the cache's
// hash table (PersonDirectory).
size_t CachedRecordBytes(const PersonRecord& record);

class PersonFold;
// The same with the person's fold states beside the record (PersonDirectory's entry): what
// each fold says its state takes (PersonFold::StateBytes), `states[k]` being fold k's.
size_t CachedEntryBytes(const PersonRecord& record, std::span<const FoldState> states,
                        std::span<PersonFold* const> folds);
// CachedEntryBytes of a person in `directory` (whose entries hold the states of `folds`);
// 0: not cached.
size_t CachedBytes(const PersonDirectory& directory, std::span<PersonFold* const> folds, std::string_view person_id);

}  // namespace caseledger::projections
