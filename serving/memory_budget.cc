#include "serving/memory_budget.h"

namespace caseledger::serving {

MemoryBudget SplitMemoryBudget(size_t total) {
  if (total == 0) total = kDefaultMemoryBudget;
  MemoryBudget b;
  // Person records (with their GP patient status beside them) are most of what a catch-up
  // reads back when they are not cached (at 1:10 a batch touches tens of thousands of
  // people), hence the largest share; the
  // store's cache serves queries (stream index, heads), the log's scans bypass it.
  b.store_block_cache = total / 5;
  b.store_write_buffers = total / 10;
  b.views_block_cache = total / 10;
  // Two memtables at most: a twentieth each keeps both within their tenth.
  b.views_write_buffer = total / 20;
  // While the views catch up the store is neither written (its memtables) nor read through
  // its cache (the log's scans bypass it, the routes wait for the views): the views'
  // memtables take those shares.
  b.views_catch_up_write_buffer = b.views_write_buffer + (b.store_write_buffers + b.store_block_cache) / 2;
  // The people the API reads and writes, their states and answers (api/person_cache.h): a
  // tenth. A person with two swabs and an answer of 1,000 bytes counts ~2.4 KB in a shard
  // and as much again in each thread's front that read them (the heap held ~0.8 of the
  // count: person_cache_budget_test), so the default budget keeps ~20,000 people in the
  // shards; a person not kept costs a fold of their stream (a few events) when read.
  b.api_person_cache = total / 10;
  b.person_records = total - b.store_block_cache - b.store_write_buffers - b.views_block_cache -
                     2 * b.views_write_buffer - b.api_person_cache;
  return b;
}

}  // namespace caseledger::serving
