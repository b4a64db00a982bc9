// RocksDB's failures as the store's errors (event_store.h), one mapping for every file of
// eventstore/: corruption, a full disk (kNoSpace: refused writes, 507 at the API), else I/O.
#pragma once

#include "eventstore/event_store.h"

#include <rocksdb/status.h>

#include <string_view>

namespace caseledger::eventstore {

// The error for `s` (not ok), its message "<what>: <RocksDB's status>".
StoreError StoreErrorFrom(const rocksdb::Status& s, std::string_view what);

}  // namespace caseledger::eventstore
