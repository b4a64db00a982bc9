#include "projections/views_db.h"

#include "eventstore/rocks_info_log.h"
#include "eventstore/rocks_memory.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <optional>
#include <vector>

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

void ViewsDb::Batch::Clear() { batch_->Clear(); }

void ViewsDb::Batch::Append(const Batch& other) {
  // WriteBatch has no public append: replay the other's records into this one.
  struct Copier final : rocksdb::WriteBatch::Handler {
    explicit Copier(rocksdb::WriteBatch& to) : to(to) {}
    void Put(const rocksdb::Slice& key, const rocksdb::Slice& value) override { to.Put(key, value); }
    void Delete(const rocksdb::Slice& key) override { to.Delete(key); }
    rocksdb::WriteBatch& to;
  } copier(*batch_);
  // Only Put and Delete are ever added (above): nothing to fail on.
  (void)other.batch_->Iterate(&copier);
}

ViewsDb::~ViewsDb() = default;

ViewsDb::Result<std::unique_ptr<ViewsDb>> ViewsDb::Open(const std::string& path, const ViewsDbOptions& options) {
  rocksdb::Options o;
  o.info_log = eventstore::RocksInfoLog();  // not a LOG file on the data volume
  o.create_if_missing = true;
  o.compression = rocksdb::kLZ4Compression;
  // Views are rewritten block by block: keep the memtable large enough for a rebuild's
  // batches and let compaction drop the overwritten versions.
  o.write_buffer_size = options.write_buffer_bytes;
  // The default skip-list memtable, not an unsorted vector one: the runner reads back at
  // every batch the person records not in its cache (person_directory.h), and a point read
  // in a vector memtable sorts a copy of it. A vector memtable with a bloom filter in
  // front was tried: at 1:1 a batch touches so many people that records leave the cache
  // while still in the memtable, and those sorts took 40 % of the rebuild. The skip list
  // costs ~10 % of a 1:100 rebuild in inserts. Bloom filters (memtable and tables) make
  // the reads of people not yet registered, most reads of a rebuild, nearly free.
  o.memtable_whole_key_filtering = true;
  // Inserts with a hint per area of the key space (the first four bytes: "peop", "gps/",
  // "muni", "inde", ...). A batch is written in key order (Sorted below), but between two of
  // its keys the memtable holds the keys of earlier batches; RocksDB's plain insert then
  // searches from the top of the skip list for every key (its sequential hint helps only
  // appends), where a hint moves from the key before (O(log distance) rather than O(log n)).
  o.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(4));
  o.memtable_prefix_bloom_size_ratio = 0.02;
  rocksdb::BlockBasedTableOptions t;
  t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  // Index and filter blocks stay with their table readers (a few bytes per key: ~10 MiB
  // at 1:1), not in the block cache: in a 32 MiB cache the data blocks of the person reads
  // evicted them, and at 1:1 every read re-read a multi-MiB filter (half the rebuild).
  std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  t.block_cache = cache;
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(o, path, &raw);
  if (!s.ok()) return FromStatus(s, "open");
  std::unique_ptr<ViewsDb> db(new ViewsDb());
  db->db_.reset(raw);
  db->cache_ = std::move(cache);
  return db;
}

ViewsDb::Result<std::optional<std::string>> ViewsDb::Get(std::string_view key, const rocksdb::Snapshot* at) const {
  std::string value;
  rocksdb::ReadOptions ro;
  ro.snapshot = at;
  rocksdb::Status s = db_->Get(ro, S(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromStatus(s, "get");
  return std::optional<std::string>(std::move(value));
}

ViewsDb::Result<std::vector<std::optional<std::string>>> ViewsDb::MultiGet(
    const std::vector<std::string>& keys) const {
  // One Get per key: DB::MultiGet of 7.8 did not consult the memtable's bloom filter in
  // our tests, and the keys are mostly absent (people not yet registered).
  std::vector<std::optional<std::string>> out(keys.size());
  rocksdb::ReadOptions ro;
  rocksdb::PinnableSlice value;
  for (size_t i = 0; i < keys.size(); ++i) {
    value.Reset();
    rocksdb::Status s = db_->Get(ro, db_->DefaultColumnFamily(), keys[i], &value);
    if (s.IsNotFound()) continue;
    if (!s.ok()) return FromStatus(s, "get");
    out[i].emplace(value.data(), value.size());
  }
  return out;
}

namespace {
// The first key after every key starting with `prefix`: its last byte incremented (empty:
// no such key, every key from the prefix on starts with it).
std::string PastPrefix(std::string_view prefix) {
  std::string past(prefix);
  while (!past.empty() && static_cast<unsigned char>(past.back()) == 0xff) past.pop_back();
  if (!past.empty()) past.back() = static_cast<char>(past.back() + 1);
  return past;
}
}  // namespace

ViewsDb::Result<void> ViewsDb::ForEach(
    const std::function<bool(std::string_view, std::string_view)>& visit,
    std::initializer_list<std::string_view> skip) const {
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
  for (it->SeekToFirst(); it->Valid();) {
    rocksdb::Slice k = it->key(), v = it->value();
    std::string_view key(k.data(), k.size());
    auto skipped = std::find_if(skip.begin(), skip.end(), [&](std::string_view s) { return key.starts_with(s); });
    if (skipped != skip.end()) {
      const std::string past = PastPrefix(*skipped);
      if (past.empty()) break;
      it->Seek(past);
      continue;
    }
    if (!visit(key, {v.data(), v.size()})) break;
    it->Next();
  }
  if (!it->status().ok()) return FromStatus(it->status(), "scan");
  return {};
}

ViewsDb::Result<void> ViewsDb::Scan(std::string_view prefix, const rocksdb::Snapshot* at,
                                    const std::function<void(std::string_view, std::string_view)>& visit) const {
  rocksdb::ReadOptions ro;
  ro.snapshot = at;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
  for (it->Seek(S(prefix)); it->Valid(); it->Next()) {
    rocksdb::Slice k = it->key(), v = it->value();
    std::string_view key(k.data(), k.size());
    if (!key.starts_with(prefix)) break;
    visit(key, {v.data(), v.size()});
  }
  if (!it->status().ok()) return FromStatus(it->status(), "scan");
  return {};
}

ViewsDb::Result<void> ViewsDb::ScanRange(std::string_view from, std::string_view to,
                                         const std::function<void(std::string_view, std::string_view)>& visit) const {
  rocksdb::ReadOptions ro;
  const rocksdb::Slice upper = S(to);
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
  for (it->Seek(S(from)); it->Valid(); it->Next()) {
    rocksdb::Slice k = it->key(), v = it->value();
    visit({k.data(), k.size()}, {v.data(), v.size()});
  }
  if (!it->status().ok()) return FromStatus(it->status(), "scan");
  return {};
}

std::shared_ptr<const rocksdb::Snapshot> ViewsDb::Pin() const {
  rocksdb::DB* db = db_.get();
  return std::shared_ptr<const rocksdb::Snapshot>(db->GetSnapshot(),
                                                  [db](const rocksdb::Snapshot* s) { db->ReleaseSnapshot(s); });
}

namespace {
// The Puts and Deletes of a batch, as views into it.
class Ops final : public rocksdb::WriteBatch::Handler {
 public:
  struct Op {
    rocksdb::Slice key, value;
    bool put = true;
  };
  std::vector<Op> ops;
  rocksdb::Status PutCF(uint32_t cf, const rocksdb::Slice& key, const rocksdb::Slice& value) override {
    if (cf != 0) return rocksdb::Status::NotSupported();
    ops.push_back({key, value, true});
    return rocksdb::Status::OK();
  }
  rocksdb::Status DeleteCF(uint32_t cf, const rocksdb::Slice& key) override {
    if (cf != 0) return rocksdb::Status::NotSupported();
    ops.push_back({key, {}, false});
    return rocksdb::Status::OK();
  }
};

// A batch this large (a rebuild's: every entry a batch of 2^17 events changed) is written
// in key order: the memtable's skip list then inserts each key next to the one before
// (its finger search), where keys in the order the partitions and views put them cost a
// search from the top each (the views database's memtable inserts were ~16 % of a rebuild's
// CPU at 1:10). Same entries, same atomicity: a key put twice keeps its last value (a stable
// sort keeps the order of equal keys).
constexpr uint32_t kSortFrom = 4096;

std::optional<rocksdb::WriteBatch> Sorted(rocksdb::WriteBatch& batch) {
  if (batch.Count() < kSortFrom) return std::nullopt;
  Ops ops;
  ops.ops.reserve(batch.Count());
  if (!batch.Iterate(&ops).ok()) return std::nullopt;  // anything but Puts and Deletes: as it is
  std::stable_sort(ops.ops.begin(), ops.ops.end(),
                   [](const Ops::Op& a, const Ops::Op& b) { return a.key.compare(b.key) < 0; });
  rocksdb::WriteBatch sorted(batch.GetDataSize());
  for (const Ops::Op& op : ops.ops) {
    rocksdb::Status s = op.put ? sorted.Put(op.key, op.value) : sorted.Delete(op.key);
    if (!s.ok()) return std::nullopt;
  }
  return sorted;
}
}  // namespace

ViewsDb::Result<void> ViewsDb::Write(Batch& batch, bool sync) {
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  // Unsynced batches skip the WAL: a crash then loses whole memtables, never part of one,
  // so the views fall back to an older checkpoint with its own entries (one column family:
  // flushes keep write order) and the runner re-applies the rest from the log. A clean
  // close flushes them. This halves what a rebuild spends writing.
  wo.disableWAL = !sync;
  std::optional<rocksdb::WriteBatch> sorted = Sorted(*batch.batch_);
  rocksdb::Status s = db_->Write(wo, sorted ? &*sorted : batch.batch_.get());
  if (!s.ok()) return FromStatus(s, "write");
  return {};
}

eventstore::RocksMemory ViewsDb::Memory() const { return eventstore::MeasureRocksMemory(*db_, cache_.get()); }

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
