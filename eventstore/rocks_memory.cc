#include "eventstore/rocks_memory.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>

namespace caseledger::eventstore {

RocksMemory MeasureRocksMemory(rocksdb::DB& db, const rocksdb::Cache* cache) {
  RocksMemory out;
  uint64_t v = 0;
  // Active, immutable and flushed-but-pinned memtables: what their arenas hold.
  if (db.GetAggregatedIntProperty(rocksdb::DB::Properties::kSizeAllMemTables, &v)) out.memtables = v;
  // Index and filter blocks held by the open table readers outside the block cache.
  if (db.GetAggregatedIntProperty(rocksdb::DB::Properties::kEstimateTableReadersMem, &v)) out.table_readers = v;
  if (cache != nullptr) {
    out.block_cache = cache->GetUsage();
    out.block_cache_capacity = cache->GetCapacity();
  }
  return out;
}

}  // namespace caseledger::eventstore
