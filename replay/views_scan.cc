#include "replay/views_scan.h"

#include <rocksdb/db.h>

#include <charconv>
#include <memory>

namespace caseledger::replay {

using eventstore::StoreError;
using eventstore::StoreErrorCode;
using eventstore::StoreResult;

StoreResult<void> ScanViewsDb(const std::string& path,
                              const std::function<bool(std::string_view, std::string_view)>& visit) {
  rocksdb::DB* raw = nullptr;
  rocksdb::Options o;
  rocksdb::Status s = rocksdb::DB::OpenForReadOnly(o, path, &raw);
  if (!s.ok()) return StoreError(StoreErrorCode::kIo, "views database " + path + ": " + s.ToString());
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    rocksdb::Slice k = it->key(), v = it->value();
    if (!visit({k.data(), k.size()}, {v.data(), v.size()})) break;
  }
  if (!it->status().ok()) return StoreError(StoreErrorCode::kIo, "views database scan: " + it->status().ToString());
  return {};
}

StoreResult<uint64_t> ViewsCheckpoint(const std::string& path) {
  uint64_t at = 0;
  bool bad = false;
  auto scan = ScanViewsDb(path, [&](std::string_view key, std::string_view value) {
    if (key != "checkpoint") return true;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), at);
    bad = ec != std::errc() || end != value.data() + value.size();
    return false;
  });
  if (!scan) return scan.error();
  if (bad) return StoreError(StoreErrorCode::kCorruption, "views checkpoint does not parse");
  return at;
}

}  // namespace caseledger::replay
