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
  b.person_records = total - b.store_block_cache - b.store_write_buffers - b.views_block_cache -
                     2 * b.views_write_buffer;
  return b;
}

}  // namespace caseledger::serving
