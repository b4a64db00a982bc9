#include "projections/views_db.h"
#include "projections/views_db_status.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <queue>
#include <vector>

namespace caseledger::projections {
namespace {

using eventstore::StoreError;
using eventstore::StoreErrorCode;

rocksdb::Slice S(std::string_view v) { return {v.data(), v.size()}; }

}  // namespace

// A WriteBatch whose bytes Append and Sort copy as they are. rep_ (protected) is in
// RocksDB's format (db/write_batch.cc): a 12-byte header (sequence, then the count, fixed32
// little-endian at byte 8) and the records one after the other; ours are only Puts and
// Deletes of the default column family.
class ViewsDb::Batch::Rep final : public rocksdb::WriteBatch {
 public:
  Rep() = default;
  // From bytes: RocksDB computes its content flags (has puts, deletes) again from the
  // records if it needs them.
  explicit Rep(std::string&& bytes) : rocksdb::WriteBatch(std::move(bytes)) {}
  std::string& bytes() { return rep_; }
};

namespace {
constexpr size_t kBatchHeader = 12;

void SetCount(std::string& rep, uint32_t n) {
  for (int i = 0; i < 4; ++i) rep[8 + i] = static_cast<char>((n >> (8 * i)) & 0xff);
}

// A record of a batch: its key, and where its bytes are in the batch.
struct Record {
  rocksdb::Slice key;
  const char* begin;  // the record's bytes in the batch
  const char* end;
  rocksdb::Slice value;  // a Put's (WriteAsTable's table files)
  bool put;
};

// The records of a batch in their order; false if it holds anything but Puts and Deletes of
// the default column family.
class Records final : public rocksdb::WriteBatch::Handler {
 public:
  Records(const std::string& rep, std::vector<Record>& out) : next_(rep.data() + kBatchHeader), out_(out) {}
  rocksdb::Status PutCF(uint32_t cf, const rocksdb::Slice& key, const rocksdb::Slice& value) override {
    return Add(cf, key, value.data() + value.size(), value, true);
  }
  rocksdb::Status DeleteCF(uint32_t cf, const rocksdb::Slice& key) override {
    return Add(cf, key, key.data() + key.size(), {}, false);
  }

 private:
  rocksdb::Status Add(uint32_t cf, const rocksdb::Slice& key, const char* end, const rocksdb::Slice& value, bool put) {
    if (cf != 0) return rocksdb::Status::NotSupported();
    out_.push_back({key, next_, end, value, put});
    next_ = end;
    return rocksdb::Status::OK();
  }
  const char* next_;  // records are contiguous: one begins where the one before ends
  std::vector<Record>& out_;
};
}  // namespace

ViewsDb::Batch::Batch() : batch_(std::make_unique<Rep>()) {}
ViewsDb::Batch::~Batch() = default;
void ViewsDb::Batch::Put(std::string_view key, std::string_view value) {
  batch_->Put(S(key), S(value));
  ++unsorted_;
}
void ViewsDb::Batch::Delete(std::string_view key) {
  batch_->Delete(S(key));
  ++unsorted_;
}
size_t ViewsDb::Batch::bytes() const { return batch_->GetDataSize(); }
size_t ViewsDb::Batch::count() const { return batch_->Count(); }

void ViewsDb::Batch::Clear() {
  batch_->Clear();
  unsorted_ = 0;
  completes_ = false;
}

void ViewsDb::Batch::Release() {
  batch_ = std::make_unique<Rep>();
  unsorted_ = 0;
  completes_ = false;
}

void ViewsDb::Batch::Append(const Batch& other) {
  // WriteBatch has no public append, and replaying the other's records through a Handler
  // into Put decoded and re-encoded every entry on the runner's thread (~3 % of a
  // rebuild): the other's records are copied as bytes after ours instead.
  const uint32_t n = other.batch_->Count();
  if (n == 0) return;
  const uint32_t total = batch_->Count() + n;
  std::string rep = std::move(batch_->bytes());
  rep.append(other.batch_->Data(), kBatchHeader, std::string::npos);
  SetCount(rep, total);
  batch_ = std::make_unique<Rep>(std::move(rep));  // keeps the buffer; content flags deferred
  unsorted_ += other.unsorted_;
}

namespace {
// Puts `records` in key order and keeps of a key's entries only the last put (the one the
// database keeps); false when they were in order already, each key once (nothing to do).
bool Order(std::vector<Record>& records) {
  auto before = [](const Record& a, const Record& b) { return a.key.compare(b.key) < 0; };
  // In order already, each key once (a partition's person records): nothing to copy.
  if (std::adjacent_find(records.begin(), records.end(), [](const Record& a, const Record& b) {
        return a.key.compare(b.key) >= 0;
      }) == records.end()) {
    return false;
  }
  // Most batches are sorted runs appended one after the other (partitions', views', the
  // index's): merged pairwise, run by run (std::inplace_merge is stable), ~log2(runs)
  // compares an entry where a sort took ~log2(entries): a catch-up's kept batches were
  // sorted at ~7 % of its instructions (docs/benchmarks.md, session 20). Many runs
  // (entries put in no order): sorted whole.
  constexpr size_t kMergeRuns = 64;
  thread_local std::vector<size_t> runs;  // recycled per thread, as the records
  runs.clear();
  runs.push_back(0);
  for (size_t i = 1; i < records.size() && runs.size() <= kMergeRuns; ++i) {
    if (records[i].key.compare(records[i - 1].key) < 0) runs.push_back(i);
  }
  if (runs.size() > kMergeRuns) {
    std::stable_sort(records.begin(), records.end(), before);
  } else {
    runs.push_back(records.size());
    while (runs.size() > 2) {  // runs[k], runs[k + 1]: the k-th run's first and end
      size_t kept = 1;
      for (size_t k = 0; k + 1 < runs.size(); k += 2) {
        const size_t end = k + 2 < runs.size() ? runs[k + 2] : runs[k + 1];
        if (k + 2 < runs.size()) {
          std::inplace_merge(records.begin() + static_cast<std::ptrdiff_t>(runs[k]),
                             records.begin() + static_cast<std::ptrdiff_t>(runs[k + 1]),
                             records.begin() + static_cast<std::ptrdiff_t>(end), before);
        }
        runs[kept++] = end;
      }
      runs.resize(kept);
    }
  }
  // Stable above: of a key's entries, the last put is last.
  size_t kept = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    if (i + 1 < records.size() && records[i + 1].key == records[i].key) continue;
    records[kept++] = records[i];
  }
  records.resize(kept);
  return true;
}
}  // namespace

void ViewsDb::Batch::Sort() {
  unsorted_ = 0;
  if (batch_->Count() < 2) return;
  // Recycled per thread: each pool thread sorts batch after batch.
  thread_local std::vector<Record> records;
  thread_local std::string sorted;
  records.clear();
  std::string& rep = batch_->bytes();
  Records collect(rep, records);
  if (!batch_->Iterate(&collect).ok()) return;  // anything but Puts and Deletes: as it is
  if (!Order(records)) return;
  sorted.assign(rep, 0, kBatchHeader);
  for (const Record& r : records) sorted.append(r.begin, r.end);
  SetCount(sorted, static_cast<uint32_t>(records.size()));
  // Same records (less overwritten ones): RocksDB's content flags still hold.
  rep.swap(sorted);
}

void ViewsDb::Batch::Merge(const std::vector<const Batch*>& runs) {
  // Recycled per thread, as Sort's.
  thread_local std::vector<Record> records;
  thread_local std::vector<std::pair<size_t, size_t>> heads;  // (next, end) in records, per run
  records.clear();
  heads.clear();
  size_t bytes = 0;
  for (const Batch* run : runs) {
    const size_t from = records.size();
    Records collect(run->batch_->Data(), records);
    if (!run->batch_->Iterate(&collect).ok()) {  // anything but Puts and Deletes: as it is
      records.resize(from);
      Append(*run);
      continue;
    }
    if (records.size() > from) heads.emplace_back(from, records.size());
    bytes += run->batch_->GetDataSize() - kBatchHeader;
  }
  if (records.empty()) return;
  const uint32_t total = batch_->Count() + static_cast<uint32_t>(records.size());
  std::string rep = std::move(batch_->bytes());
  rep.reserve(rep.size() + bytes);
  // A handful of runs (the partitions): the least head by a scan of them.
  while (!heads.empty()) {
    size_t least = 0;
    for (size_t h = 1; h < heads.size(); ++h) {
      if (records[heads[h].first].key.compare(records[heads[least].first].key) < 0) least = h;
    }
    const Record& r = records[heads[least].first];
    rep.append(r.begin, r.end);
    if (++heads[least].first == heads[least].second) heads.erase(heads.begin() + static_cast<std::ptrdiff_t>(least));
  }
  SetCount(rep, total);
  batch_ = std::make_unique<Rep>(std::move(rep));  // keeps the buffer; content flags deferred
  for (const Batch* run : runs) unsorted_ += run->unsorted_;
}

ViewsDb::Result<std::optional<std::string>> ViewsDb::Get(std::string_view key, const rocksdb::Snapshot* at) const {
  if (NothingAsOf(at)) return std::optional<std::string>();
  if (auto ready = Ready(); !ready) return ready.error();
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
  if (auto ready = Ready(); !ready) return ready.error();
  // RocksDB's batched MultiGet (keys sorted: each file's index and filter blocks are
  // searched once per run of keys rather than once per key). Since the pipeline stopped
  // asking for people whose stream starts in the batch (docs/benchmarks.md, 2026-12-04),
  // the keys asked for are mostly there: records read back.
  keys_read_.fetch_add(keys.size(), std::memory_order_relaxed);
  std::vector<std::optional<std::string>> out(keys.size());
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  const bool sorted = std::is_sorted(keys.begin(), keys.end());
  db_->MultiGet(rocksdb::ReadOptions(), db_->DefaultColumnFamily(), keys.size(), slices.data(), values.data(),
                statuses.data(), sorted);
  for (size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    if (!statuses[i].ok()) return FromStatus(statuses[i], "get");
    out[i].emplace(values[i].data(), values[i].size());
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
  if (auto ready = Ready(); !ready) return ready.error();
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
  if (NothingAsOf(at)) return {};
  if (auto ready = Ready(); !ready) return ready.error();
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
  if (auto ready = Ready(); !ready) return ready.error();
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

namespace {
// A batch this large with its entries not in sorted runs (the sequential runner's: every
// entry a batch of 2^17 events changed) is sorted before it is written: the memtable's skip
// list then inserts each key next to the one before (its finger search, with the insert
// hint of Open), where keys in the order the views put them cost a search from the top
// each (the views database's memtable inserts were ~16 % of a rebuild's CPU at 1:10).
constexpr size_t kSortFrom = 4096;
}  // namespace

ViewsDb::Result<void> ViewsDb::Write(Batch& batch, bool sync) {
  if (auto ready = Ready(); !ready) return ready.error();
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  // Unsynced batches skip the WAL: a crash then loses whole memtables, never part of one,
  // so the views fall back to an older checkpoint with its own entries (one column family:
  // flushes keep write order) and the runner re-applies the rest from the log. A clean
  // close flushes them. This halves what a rebuild spends writing.
  wo.disableWAL = !sync;
  if (batch.unsorted_ >= kSortFrom) batch.Sort();
  if (options_.before_write) options_.before_write();
  rocksdb::Status s = db_->Write(wo, batch.batch_.get());
  if (!s.ok()) return FromStatus(s, "write");
  if (batch.completes_) {
    batch.completes_ = false;
    Complete();
  }
  return {};
}

std::string ViewsDb::WriteSummary() const {
  if (auto ready = Ready(); !ready) return ready.error().message;
  // RocksDB's compaction statistics ("compaction.<level>.<stat>": GB, seconds), where level
  // 0's writes are the flushes'.
  std::map<std::string, std::string> stats;
  if (!db_->GetMapProperty(rocksdb::DB::Properties::kCFStats, &stats)) return "no statistics";
  auto number = [&](const std::string& key) {
    auto it = stats.find(key);
    return it == stats.end() ? 0.0 : std::strtod(it->second.c_str(), nullptr);
  };
  const double flushed = number("compaction.L0.WriteGB");
  const double read = number("compaction.Sum.ReadGB");
  const double written = number("compaction.Sum.WriteGB") - flushed;
  const double cpu = number("compaction.Sum.CompMergeCPU");
  const double stalls = number("io_stalls.total_stop") + number("io_stalls.total_slowdown");
  constexpr double kMib = 1024;  // per GB
  char line[200];
  std::snprintf(line, sizeof line,
                "flushed %.0f MiB; compactions read %.0f MiB and wrote %.0f MiB in %.1f s of CPU; %.0f write stalls; "
                "%llu records read back",
                flushed * kMib, read * kMib, written * kMib, cpu, stalls,
                static_cast<unsigned long long>(KeysRead()));
  return line;
}

ViewsDb::Result<void> ViewsDb::Flush() {
  if (auto ready = Ready(); !ready) return ready.error();
  rocksdb::FlushOptions fo;
  fo.wait = true;
  rocksdb::Status s = db_->Flush(fo);
  if (!s.ok()) return FromStatus(s, "flush");
  return {};
}


ViewsDb::Result<void> ViewsDb::WriteAsTable(Batch& batch, const std::string& dir) {
  if (batch.count() == 0) return {};
  // Kept as it is: MergeTables orders it (Order) as it reads its records, once, on the
  // thread that writes the table (for a short rebuild's last batch, not the runner's).
  table_bytes_ += batch.bytes();
  if (table_used_ == table_runs_.size()) table_runs_.emplace_back();
  Batch& run = table_runs_[table_used_++];
  run.Clear();
  // The batch kept, and the caller's batch goes on with the buffer of one written before:
  // a batch whose buffer grew from nothing at every write was ~3 % of a catch-up's CPU in
  // page faults (view_runner_catch_up.cc).
  run.batch_.swap(batch.batch_);
  // As large as a memtable would grow before its flush: as many files of the same size,
  // and so the same compactions.
  if (table_bytes_ < std::max(options_.write_buffer_bytes, options_.catch_up_write_buffer_bytes)) return {};
  // Not for a short catch-up's one table (FlushTables): it would rewrite the OPTIONS file
  // (synced) twice for nothing.
  if (auto held = HoldCompactions(); !held) return held.error();
  return MergeTables(dir);
}

ViewsDb::Result<void> ViewsDb::FlushTables(const std::string& dir) {
  auto merged = MergeTables(dir);
  table_runs_.clear();  // their buffers given back: the catch-up is over
  table_used_ = 0;
  table_bytes_ = 0;
  auto released = ReleaseCompactions();
  if (!merged) return merged;
  return released;
}

ViewsDb::Result<void> ViewsDb::MergeTables(const std::string& dir) {
  if (table_used_ == 0) return {};
  std::vector<std::vector<Record>> runs(table_used_);
  for (size_t r = 0; r < runs.size(); ++r) {
    Records collect(table_runs_[r].batch_->Data(), runs[r]);
    if (rocksdb::Status s = table_runs_[r].batch_->Iterate(&collect); !s.ok()) return FromStatus(s, "table of a batch");
    // In key order (the batch's sorted runs, partitions' and views', merged), and of a key's
    // entries only the last put, as Batch::Sort leaves a batch: one pass over its records
    // where Sort's rewrite of the batch and a second collection of them were ~10 M
    // instructions of a short rebuild's end (docs/benchmarks.md, session 24).
    Order(runs[r]);
  }
  // The runs merged in key order; of a key's entries, the newest run's (a later batch's).
  using Head = std::pair<size_t, size_t>;  // run, entry
  auto after = [&runs](const Head& a, const Head& b) {
    const int c = runs[a.first][a.second].key.compare(runs[b.first][b.second].key);
    return c != 0 ? c > 0 : a.first < b.first;
  };
  std::priority_queue<Head, std::vector<Head>, decltype(after)> heads(after);
  for (size_t r = 0; r < runs.size(); ++r) {
    if (!runs[r].empty()) heads.emplace(r, 0);
  }
  // Written before the wait for Create's creation, if it still runs (IngestFiles waits):
  // with the options it is created with (views_db_ingest.cc's WriteTable says why).
  const std::string path = dir + "/table-" + std::to_string(++tables_) + ".sst";
  rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), *table_options_);
  if (rocksdb::Status s = writer.Open(path); !s.ok()) return FromStatus(s, ("create " + path).c_str());
  auto advance = [&](const Head& h) {
    if (h.second + 1 < runs[h.first].size()) heads.emplace(h.first, h.second + 1);
  };
  while (!heads.empty()) {
    const Head top = heads.top();
    heads.pop();
    const Record& e = runs[top.first][top.second];
    while (!heads.empty() && runs[heads.top().first][heads.top().second].key == e.key) {
      const Head older = heads.top();
      heads.pop();
      advance(older);
    }
    if (rocksdb::Status s = e.put ? writer.Put(e.key, e.value) : writer.Delete(e.key); !s.ok()) {
      std::remove(path.c_str());
      return FromStatus(s, ("write " + path).c_str());
    }
    advance(top);
  }
  if (rocksdb::Status s = writer.Finish(); !s.ok()) {
    std::remove(path.c_str());
    return FromStatus(s, ("finish " + path).c_str());
  }
  if (auto ingested = IngestFiles({path}); !ingested) return ingested;
  table_used_ = 0;  // kept with their buffers, for the next batches
  table_bytes_ = 0;
  return {};
}

ViewsDb::Result<void> ViewsDb::DropAll() {
  if (auto ready = Ready(); !ready) return ready.error();
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
