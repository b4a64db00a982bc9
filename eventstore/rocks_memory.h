// Private to the modules that open a RocksDB (eventstore, projections): what a database
// holds in memory, read from its properties (event_store.h, RocksMemory).
#pragma once

#include "eventstore/event_store.h"

namespace rocksdb {
class Cache;
class DB;
}  // namespace rocksdb

namespace caseledger::eventstore {

// The memtables and table readers of every column family of `db`, and what `cache` (its
// block cache; null: none) holds. Thread-safe (RocksDB's properties are).
RocksMemory MeasureRocksMemory(rocksdb::DB& db, const rocksdb::Cache* cache);

}  // namespace caseledger::eventstore
