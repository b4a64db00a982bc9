#include "projections/views_db.h"

#include <rocksdb/db.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

namespace caseledger::projections {
namespace {

using eventstore::StoreError;
using eventstore::StoreErrorCode;

StoreError FromStatus(const rocksdb::Status& s, const char* what) {
  StoreErrorCode code = s.IsCorruption() ? StoreErrorCode::kCorruption : StoreErrorCode::kIo;
  return StoreError(code, std::string("views database: ") + what + ": " + s.ToString());
}

rocksdb::Slice S(std::string_view v) { return {v.data(), v.size()}; }

}  // namespace

ViewsDb::Batch::Batch() : batch_(std::make_unique<rocksdb::WriteBatch>()) {}
ViewsDb::Batch::~Batch() = default;
void ViewsDb::Batch::Put(std::string_view key, std::string_view value) { batch_->Put(S(key), S(value)); }
void ViewsDb::Batch::Delete(std::string_view key) { batch_->Delete(S(key)); }
size_t ViewsDb::Batch::bytes() const { return batch_->GetDataSize(); }

ViewsDb::~ViewsDb() = default;

ViewsDb::Result<std::unique_ptr<ViewsDb>> ViewsDb::Open(const std::string& path) {
  rocksdb::Options o;
  o.create_if_missing = true;
  o.compression = rocksdb::kLZ4Compression;
  // Views are rewritten block by block: keep the memtable large enough for a rebuild's
  // batches and let compaction drop the overwritten versions.
  o.write_buffer_size = 64 << 20;
  // The views are read back only when the runner opens (a scan, after recovery) and
  // written in big batches: an unsorted vector memtable, sorted once at flush, costs a
  // fraction of the skip list's insertions.
  o.memtable_factory = std::make_shared<rocksdb::VectorRepFactory>();
  o.allow_concurrent_memtable_write = false;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(o, path, &raw);
  if (!s.ok()) return FromStatus(s, "open");
  std::unique_ptr<ViewsDb> db(new ViewsDb());
  db->db_.reset(raw);
  return db;
}

ViewsDb::Result<std::optional<std::string>> ViewsDb::Get(std::string_view key) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), S(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromStatus(s, "get");
  return std::optional<std::string>(std::move(value));
}

ViewsDb::Result<void> ViewsDb::ForEach(
    const std::function<bool(std::string_view, std::string_view)>& visit) const {
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    rocksdb::Slice k = it->key(), v = it->value();
    if (!visit({k.data(), k.size()}, {v.data(), v.size()})) break;
  }
  if (!it->status().ok()) return FromStatus(it->status(), "scan");
  return {};
}

ViewsDb::Result<void> ViewsDb::Write(Batch& batch, bool sync) {
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  // Unsynced batches skip the WAL: a crash then loses whole memtables, never part of one,
  // so the views fall back to an older checkpoint with its own entries (one column family:
  // flushes keep write order) and the runner re-applies the rest from the log. A clean
  // close flushes them. This halves what a rebuild spends writing.
  wo.disableWAL = !sync;
  rocksdb::Status s = db_->Write(wo, batch.batch_.get());
  if (!s.ok()) return FromStatus(s, "write");
  return {};
}

ViewsDb::Result<void> ViewsDb::Flush() {
  rocksdb::FlushOptions fo;
  fo.wait = true;
  rocksdb::Status s = db_->Flush(fo);
  if (!s.ok()) return FromStatus(s, "flush");
  return {};
}

ViewsDb::Result<void> ViewsDb::DropAll() {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  it->SeekToLast();
  if (!it->status().ok()) return FromStatus(it->status(), "scan");
  if (!it->Valid()) return {};
  std::string last = it->key().ToString();
  it.reset();
  rocksdb::WriteBatch wb;
  wb.DeleteRange(rocksdb::Slice(), last);
  wb.Delete(last);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  rocksdb::Status s = db_->Write(wo, &wb);
  if (!s.ok()) return FromStatus(s, "drop");
  return {};
}

}  // namespace caseledger::projections
