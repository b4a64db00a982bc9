// One memory budget for a server (serve --memory-budget, config limits.memory_budget_mib),
// split in bytes between the parts of it that would otherwise grow with the data (issue
// #14: serve's RSS bounded whatever the scale; figures: docs/benchmarks.md, 2026-12-03,
// afternoon). What it does not cover: the code, the threads' stacks, the views kept whole
// in memory (municipality, region, lab and school figures: by municipality, lab and
// school and day, not by person) and requests in flight. The API's person cache (current
// person states and their rendered answers, api/person_cache.h) is in it since
// 2026-12-06; it was bounded by a count (200,000 people), not by bytes.
// Both databases' index and filter blocks (held by their table readers outside the block
// caches, ~117 MiB at 1:1) are in it: the person records' share gives way to them as they
// grow (projections::RunnerOptions::records_give_way_to_tables; docs/benchmarks.md,
// 2026-12-04 afternoon).
#pragma once

#include <cstddef>

namespace caseledger::serving {

struct MemoryBudget {
  size_t store_block_cache = 0;    // eventstore::StoreOptions::block_cache_bytes
  size_t store_write_buffers = 0;  // eventstore::StoreOptions::write_buffer_bytes
  size_t views_block_cache = 0;    // projections::ViewsDbOptions::block_cache_bytes
  size_t views_write_buffer = 0;   // projections::ViewsDbOptions::write_buffer_bytes
  size_t views_catch_up_write_buffer = 0;  // projections::ViewsDbOptions::catch_up_write_buffer_bytes
  size_t person_records = 0;       // projections::RunnerOptions::person_cache_bytes
  size_t api_person_cache = 0;     // api::PersonCache's capacity
};

// The budget when none is given.
inline constexpr size_t kDefaultMemoryBudget = size_t{640} << 20;

// `total` bytes (0: kDefaultMemoryBudget) split between the parts: 40 % person records
// (with the GP view's patient status of each: its rows had 15 % of their own until
// 2026-12-05), 20 % the store's block cache, 10 % each the store's memtables, the views
// database's block cache and the API's person cache, 5 % the views database's memtable
// (two of them at most exist: one filling, one being written). With the second memtable
// the parts sum to `total`. While the views catch up from far behind, their memtables take the shares of
// the store's memtables and block cache too (a fifth each instead of a twentieth): a
// catch-up neither writes to the store nor reads through its cache, and every record and
// row a larger memtable keeps is one less rewritten by compactions (a third less CPU at
// the 1:1 ratios, docs/benchmarks.md).
MemoryBudget SplitMemoryBudget(size_t total);

}  // namespace caseledger::serving
