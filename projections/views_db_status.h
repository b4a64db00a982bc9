// Private to the views database's sources (views_db.cc, views_db_ingest.cc): a RocksDB
// status as the store's error, named as the views database's.
#pragma once

#include "eventstore/event_store.h"

#include <rocksdb/status.h>

#include <string>

namespace caseledger::projections {

inline eventstore::StoreError FromStatus(const rocksdb::Status& s, const char* what) {
  const auto code = s.IsCorruption() ? eventstore::StoreErrorCode::kCorruption : eventstore::StoreErrorCode::kIo;
  return eventstore::StoreError(code, std::string("views database: ") + what + ": " + s.ToString());
}

}  // namespace caseledger::projections
