#include "eventstore/rocks_status.h"

#include <string>

namespace caseledger::eventstore {

StoreError StoreErrorFrom(const rocksdb::Status& s, std::string_view what) {
  const StoreErrorCode code = s.IsCorruption() ? StoreErrorCode::kCorruption
                              : s.IsNoSpace()  ? StoreErrorCode::kNoSpace
                                               : StoreErrorCode::kIo;
  return StoreError{code, std::string(what) + ": " + s.ToString()};
}

}  // namespace caseledger::eventstore
