// Opening, recovery, heads, claims and checkpoints of the RocksDB event store. Reads of the
// log and of streams are in rocks_event_store_reads.cc, the write path (group commit) in
// group_commit.cc.
#include "eventstore/rocks_event_store.h"

#include "eventstore/disk_space.h"
#include "eventstore/file_write.h"
#include "eventstore/memtable_hook.h"
#include "eventstore/rocks_backup.h"
#include "eventstore/rocks_info_log.h"
#include "eventstore/rocks_memory.h"
#include "eventstore/rocks_status.h"
#include "eventstore/store_logger.h"
#include "domain/decision.h"

#include <pthread.h>
#include <rocksdb/cache.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/options_util.h>

#include <cstring>
#include <fstream>
#include <future>
#include <stdexcept>

namespace caseledger::eventstore {

void throw_exception_from_error(const StoreError& e, const boost::source_location& loc) {
  throw std::logic_error(std::string("value() on a store error at ") + loc.file_name() + ":" +
                         std::to_string(loc.line()) + ": " + e.message);
}

namespace {

// How one column family is stored.
struct FamilyLayout {
  bool point_lookups = false;  // a Bloom filter: Gets of keys that may not exist
  bool compress = true;
  size_t block_size = 16 * 1024;
  // Keys stored whole every this many entries (the rest share their prefix with the one
  // before): more for families read in order, whose keys share long prefixes.
  int restart_interval = 16;
};

rocksdb::ColumnFamilyOptions FamilyOptions(const std::shared_ptr<rocksdb::Cache>& cache,
                                           const FamilyLayout& layout) {
  rocksdb::ColumnFamilyOptions o;
  rocksdb::BlockBasedTableOptions t;
  t.block_cache = cache;
  if (layout.point_lookups) t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  t.block_size = layout.block_size;
  t.block_restart_interval = layout.restart_interval;
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  if (layout.compress) {
    o.compression = rocksdb::kLZ4Compression;
    // ZSTD where the data settles. No dictionary: measured on the append bench, a trained
    // 32 KiB dictionary saved nothing on the 64 KiB blocks of the log (85.4 bytes/event
    // with it, 85.0 without) and cost the small families more than it saved (each SST
    // file carries its dictionary: heads 4.37 -> 3.92, keys 6.94 -> 6.69 without).
    o.bottommost_compression = rocksdb::kZSTD;
    o.bottommost_compression_opts.enabled = true;
    o.bottommost_compression_opts.level = 6;
  }
  return o;
}

}  // namespace

StoreResult<std::unique_ptr<EventStore>> EventStore::Open(const StoreOptions& options) {
  return RocksEventStore::Open(options);
}

StoreResult<AppendResult> EventStore::Append(const AppendRequest& request) {
  // Shared: the commit thread may still be inside set_value when get() returns here.
  auto answer = std::make_shared<std::promise<StoreResult<AppendResult>>>();
  std::future<StoreResult<AppendResult>> future = answer->get_future();
  AppendAsync(request, [answer](StoreResult<AppendResult> r) { answer->set_value(std::move(r)); });
  return future.get();
}

StoreResult<std::unique_ptr<EventStore>> RocksEventStore::Open(const StoreOptions& options) {
  std::unique_ptr<RocksEventStore> store(new RocksEventStore());
  store->options_ = options;
  if (!store->options_.clock) {
    store->options_.clock = [] {
      auto now = std::chrono::system_clock::now().time_since_epoch();
      return Timestamp{std::chrono::duration_cast<std::chrono::microseconds>(now).count()};
    };
  }

  rocksdb::DBOptions db_options;
  db_options.info_log = RocksInfoLog();  // not a LOG file on the data volume (rocks_info_log.h)
  db_options.create_if_missing = options.create_if_missing;
  if (options.env) db_options.env = options.env.get();
  db_options.create_missing_column_families = true;
  db_options.paranoid_checks = true;
  // A WAL that ends in a torn record (a crash mid-write of an unacknowledged batch) is
  // cut there; acknowledged batches were synced whole before their answer.
  db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  db_options.max_background_jobs = 2;
  db_options.bytes_per_sync = 1 << 20;
  // Small families (keys, heads, claims) fill their memtables slowly and would pin every WAL
  // file since their last flush: RocksDB's default cap (4x all memtables, ~4 GiB here) is
  // what a restart after a crash replays. Past this size the families holding the oldest
  // WAL are flushed, so recovery reads at most about this much.
  db_options.max_total_wal_size = 512 << 20;
  db_options.db_write_buffer_size = options.write_buffer_bytes;
  // Never: unordered_write (partly visible batches), manual_wal_flush (acks before the WAL).
  db_options.unordered_write = false;
  db_options.manual_wal_flush = false;
  // A write's WAL stage (write and sync) and its memtable stage in turn, each in write
  // order: the next group's WAL write and sync run beside this group's memtable inserts
  // (group_commit.cc hands it over only once this one's inserts began, memtable_hook.h).
  // A batch is still readable only after its sync and its inserts.
  db_options.enable_pipelined_write = true;
  // A primary shipping to a standby keeps retired WAL files in DIR/store/archive until its
  // shipper has sent them (and deletes them then): a standby that fell behind reads them.
  // The store remembers it (a file beside RocksDB's, which RocksDB leaves alone), so that
  // every process opening it — `caseledger grant`, an offline backup — keeps them too.
  const std::string keep_wal_marker = options.path + "/" + kKeepWalMarker;
  uint64_t keep_wal_seconds = options.wal_archive_seconds;
  if (keep_wal_seconds == 0) {
    std::ifstream in(keep_wal_marker);
    if (!(in >> keep_wal_seconds)) keep_wal_seconds = 0;
  }
  db_options.WAL_ttl_seconds = keep_wal_seconds;

  // Larger blocks for the log: more of a stream's ids, actors and types repeat within one
  // block (read mostly in order by the views). The log and the stream index store whole
  // keys every 128 entries rather than 16 (-2 bytes per event on the append bench).
  FamilyLayout log{false, true, 64 * 1024, 128}, index{false, true, 16 * 1024, 128};
  FamilyLayout lookups{true, true}, plain{true, false};
  auto cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  store->block_cache_ = cache;
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, FamilyOptions(cache, plain)},
      {format::kEvents, FamilyOptions(cache, log)},
      {format::kStreams, FamilyOptions(cache, index)},
      {format::kHeads, FamilyOptions(cache, lookups)},
      {format::kIdempotency, FamilyOptions(cache, lookups)},
      {format::kClaims, FamilyOptions(cache, lookups)},
      {format::kCheckpoints, FamilyOptions(cache, plain)},
      {format::kKeys, FamilyOptions(cache, lookups)},  // format 1-2 keys; stream ids compress
  };
  // The skip list with the hook that tells the group commit its write is synced.
  auto memtables = NewHookedSkipListFactory();
  for (auto& family : families) family.options.memtable_factory = memtables;
  // The heads, idempotency records and claims are read only by whole key (Get; an
  // iterator over one of them only in `verify`, a standby's seed and a flush), and their
  // keys are random (stream ids, keyed hashes): a hash table's insert hashes the key and
  // walks one short list, where the skip list's, hinted, searched ~20 nodes (~8.8 k
  // instructions, 20 % of the append bench's cycles in the searches' cache misses). A
  // flush pays for the order instead, off the commit threads (docs/benchmarks.md, session
  // 29). 2^18 buckets, 2 MiB a memtable: ~3 keys a bucket in a full 64 MiB memtable.
  auto hashed = NewHookedHashedFactory(size_t{1} << 18);
  for (size_t f : {3, 4, 5}) families[f].options.memtable_factory = hashed;
  // The stream index hashed by stream: its keys are random too (stream ids), but a stream's
  // read seeks in it, so the table hashes by the family's prefix extractor (the stream: its
  // entries share one short sorted list) and a reader's Seek goes to that list (RocksDB's
  // prefix mode). Its hinted skip-list inserts were ~11 k of the commit threads' ~24 k
  // instructions an append (session 29). A read that crosses streams must ask for total
  // order (memtable_hook.h): the standby's seed does; `verify` opens the store without it.
  // The files are unchanged: the family has no filter for the extractor to build.
  families[2].options.prefix_extractor = NewStreamPrefixTransform();
  families[2].options.memtable_factory = NewHookedPrefixHashedFactory(size_t{1} << 18);
  db_options.allow_concurrent_memtable_write = false;  // the hash table's inserts are not concurrent
  // The heads and claims families are asked mostly for keys that are not there (a new
  // stream's head, a new swab's or tax code's claim: every registration, every swab
  // request). Their tables have Bloom filters, but a miss in the memtable was a search of
  // its skip list (~6k of the ~8.7k instructions of such a read under callgrind). A whole
  // key filter in the memtable answers most misses at once; 1 % of the write buffer
  // (~0.6 MiB of 64 MiB) per memtable of these two families.
  for (size_t f : {3, 5}) {
    families[f].options.memtable_whole_key_filtering = true;
    families[f].options.memtable_prefix_bloom_size_ratio = 0.01;
  }
  rocksdb::DB* raw = nullptr;
  if (options.create_if_missing) CreateDatabaseDirectory(options.path);
  rocksdb::Status s = rocksdb::DB::Open(db_options, options.path, families, &store->handles_, &raw);
  if (!s.ok()) return StoreErrorFrom(s, "open");
  store->db_.reset(raw);
  store->events_ = store->handles_[1];
  store->streams_ = store->handles_[2];
  store->heads_ = store->handles_[3];
  store->idempotency_ = store->handles_[4];
  store->claims_ = store->handles_[5];
  store->checkpoints_ = store->handles_[6];
  store->keys_ = store->handles_[7];

  if (options.wal_archive_seconds > 0) {
    auto marked = WriteFileAtomically(keep_wal_marker, std::to_string(options.wal_archive_seconds) + "\n");
    if (!marked) return marked.error();
  }
  std::string format_version;
  s = raw->Get(rocksdb::ReadOptions(), "format", &format_version);
  if (s.IsNotFound() || (s.ok() && (format_version == format::kPreviousFormatVersion ||
                                     format_version == format::kFirstFormatVersion))) {
    // A new store, or one of an earlier format: its records, index entries, heads and keys
    // are read as they are, new ones are written in this format's layouts, so the marker
    // moves on.
    rocksdb::WriteOptions wo;
    wo.sync = true;
    s = raw->Put(wo, "format", format::kFormatVersion);
    if (!s.ok()) return StoreErrorFrom(s, "write format marker");
    if (!format_version.empty()) {
      StoreLog()->info("upgraded {} from {} to {}", options.path, format_version, format::kFormatVersion);
    }
  } else if (!s.ok()) {
    return StoreErrorFrom(s, "read format marker");
  } else if (format_version != format::kFormatVersion) {
    return StoreError{StoreErrorCode::kCorruption, "unknown store format " + format_version};
  }

  if (!options.master_key_path.empty()) {
    if (auto vault = store->OpenVault(options.master_key_path); !vault) return vault.error();
  }
  if (auto role = store->LoadRole(); !role) return role.error();
  auto recovered = store->Recover(options.verify_tail_on_open);
  if (!recovered) return recovered.error();
  store->space_gate_ = std::make_unique<FreeSpaceGate>(store->options_.path, store->options_.min_free_bytes, "the event store");
  for (size_t i = 0; i < store->syncers_.size(); ++i) {
    store->syncers_[i] = std::thread([s = store.get(), i] {
      pthread_setname_np(pthread_self(), i == 0 ? "cl-commit" : "cl-commit2");  // in top -H, perf and /proc
      s->SyncLoop();
    });
  }
  StoreLog()->info("opened {} at position {}", options.path, store->CommittedPosition());
  return std::unique_ptr<EventStore>(std::move(store));
}

RocksEventStore::~RocksEventStore() {
  if (syncers_[0].joinable()) {
    {
      std::lock_guard l(write_mu_);
      stopping_ = true;
    }
    sync_cv_.notify_all();
    turn_cv_.notify_all();
    for (auto& t : syncers_) t.join();  // answers every group formed before
  }
  if (!db_) return;
  for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  db_->Close();
}

StoreResult<void> RocksEventStore::Recover(uint64_t verify_tail) {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), events_));
  it->SeekToLast();
  if (!it->status().ok()) return StoreErrorFrom(it->status(), "seek log end");
  uint64_t last = 0;
  if (it->Valid()) {
    if (it->key().size() != 8) return StoreError{StoreErrorCode::kCorruption, "bad event key"};
    last = format::DecodeFixed64BE(it->key().data());
  }
  Hash tip{};
  if (last > 0) {
    uint64_t from = last > verify_tail ? last - verify_tail + 1 : 1;
    Hash prev{};
    if (from > 1) {
      auto h = HashAt(from - 1);
      if (!h) return h.error();
      prev = *h;
    }
    it->Seek(format::PositionKey(from));
    for (uint64_t pos = from; pos <= last; ++pos, it->Next()) {
      StoreError bad{StoreErrorCode::kCorruption, "", 0, pos};
      if (!it->Valid() || format::DecodeFixed64BE(it->key().data()) != pos) {
        bad.message = "log tail has a gap at position " + std::to_string(pos);
        return bad;
      }
      auto split = format::Split({it->value().data(), it->value().size()});
      const Hash computed = split ? format::ChainHash(prev, pos, split->record_body) : Hash{};
      if (!split || !split->Matches(computed)) {
        bad.message = "hash chain broken at position " + std::to_string(pos);
        return bad;
      }
      prev = computed;
    }
    if (!it->status().ok()) return StoreErrorFrom(it->status(), "verify log tail");
    tip = prev;
  }
  next_position_ = last + 1;
  tip_hash_ = tip;
  {
    std::lock_guard tl(tip_mu_);
    SetTip(ChainTip{last, tip});
  }
  committed_.store(last, std::memory_order_release);
  last_recorded_ = Now();
  return {};
}

Timestamp RocksEventStore::Now() { return options_.clock(); }

StoreResult<std::optional<std::string>> RocksEventStore::Get(rocksdb::ColumnFamilyHandle* cf,
                                                             const std::string& key) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf, key, &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return StoreErrorFrom(s, "get");
  return std::optional<std::string>(std::move(value));
}

void RocksEventStore::SetTip(const ChainTip& tip) {
  tip_ = tip;
  recent_tips_[next_recent_tip_++ % recent_tips_.size()] = tip;
}

StoreResult<uint64_t> RocksEventStore::StreamVersion(const std::string& stream) const {
  AwaitAnswered();
  auto head = LoadHead(stream);
  if (!head) return head.error();
  return head->version;
}

StoreResult<std::optional<std::string>> RocksEventStore::ClaimOwner(const std::string& claim) const {
  AwaitAnswered();
  if (!domain::IsPersonalClaim(claim)) {
    // A swab's owner, read by every collection and result: from memory when the group
    // commit wrote it or a read found it (written_claims.h); a claim not taken is not kept.
    if (auto owner = written_claims_.Find(claim)) return std::optional<std::string>(std::move(*owner));
    const uint64_t generation = written_claims_.Generation(claim);
    auto owner = Get(claims_, claim);
    if (owner && *owner) written_claims_.Fill(claim, **owner, generation);
    return owner;
  }
  if (!vault_) return StoreError{StoreErrorCode::kInvalidArgument, "no master key: personal claims cannot be looked up"};
  return Get(claims_, vault_->BlindClaim(claim));
}

StoreResult<ClaimRead> RocksEventStore::ReadClaim(const std::string& claim) const {
  AwaitAnswered();
  ClaimRead read;
  read.claim = claim;
  // Before the read: claims written while it runs move the count, and Prepare reads again.
  read.generation = claims_written_.load(std::memory_order_acquire);
  if (domain::IsPersonalClaim(claim)) {
    if (!vault_) return StoreError{StoreErrorCode::kInvalidArgument, "no master key: personal claims cannot be looked up"};
    read.stored = vault_->BlindClaim(claim);
    auto owner = Get(claims_, read.stored);
    if (!owner) return owner.error();
    read.owner = std::move(*owner);
    return read;
  }
  read.stored = claim;
  auto owner = ClaimOwner(claim);
  if (!owner) return owner.error();
  read.owner = std::move(*owner);
  return read;
}

StoreResult<std::optional<EventStore::IdempotentAnswer>> RocksEventStore::FindIdempotencyKey(
    const std::string& key) const {
  AwaitAnswered();
  auto v = Get(idempotency_, key);
  if (!v) return v.error();
  if (!*v) return std::optional<IdempotentAnswer>();
  auto rec = format::DecodeIdempotency(**v);
  if (!rec) return StoreError{StoreErrorCode::kCorruption, "bad idempotency record"};
  // Only answers whose events are committed count; the record is written with them.
  return std::optional<IdempotentAnswer>(IdempotentAnswer{
      rec->digest, AppendResult{rec->stream, rec->first_position, rec->last_position, rec->version, true}});
}

StoreStats RocksEventStore::Stats() const {
  AwaitAnswered();
  StoreStats stats;
  {
    std::lock_guard l(write_mu_);
    stats = stats_;
  }
  stats.log_reads = log_reads_.load(std::memory_order_relaxed);
  stats.log_reads_in_memory = log_reads_in_memory_.load(std::memory_order_relaxed);
  return stats;
}

ChainTip RocksEventStore::Tip() const {
  AwaitAnswered();
  std::lock_guard l(tip_mu_);
  return tip_;
}

bool RocksEventStore::WaitForPosition(uint64_t position, std::chrono::milliseconds timeout) const {
  std::unique_lock l(commit_mu_);
  return commit_cv_.wait_for(l, timeout, [&] { return committed_.load(std::memory_order_acquire) >= position; });
}

void RocksEventStore::AddCommitListener(std::function<void(uint64_t)> listener) {
  std::lock_guard l(commit_mu_);
  listeners_.push_back(std::move(listener));
}

void RocksEventStore::AddAnswerHooks(AnswerHooks hooks) {
  std::lock_guard l(commit_mu_);
  auto added = std::make_shared<std::vector<AnswerHooks>>(*answer_hooks_);
  added->push_back(std::move(hooks));
  answer_hooks_ = std::move(added);
}

StoreResult<uint64_t> RocksEventStore::GetCheckpoint(const std::string& consumer) const {
  auto v = Get(checkpoints_, consumer);
  if (!v) return v.error();
  if (!*v) return uint64_t{0};
  if ((*v)->size() != 8) return StoreError{StoreErrorCode::kCorruption, "bad checkpoint " + consumer};
  return format::DecodeFixed64BE((*v)->data());
}

StoreResult<void> RocksEventStore::PutCheckpoint(const std::string& consumer, uint64_t position) {
  if (auto refused = WriteRefusal()) return *refused;
  {
    std::lock_guard l(write_mu_);
    if (auto refused = RoleRefusal()) return *refused;
  }
  if (auto low = BelowFreeSpaceFloor(options_.path, options_.min_free_bytes, "the event store")) return *low;
  rocksdb::WriteOptions wo;
  wo.sync = true;
  rocksdb::Status s = db_->Put(wo, checkpoints_, consumer, format::PositionKey(position));
  if (!s.ok()) {
    // As for a failed group commit: nothing writes to this database again before a reopen.
    StoreError e = StoreErrorFrom(s, "put checkpoint");
    std::lock_guard l(write_mu_);
    if (!bg_error_ || !needs_reopen_) bg_error_ = e;
    needs_reopen_ = true;
    StoreLog()->critical("checkpoint write failed: {}; refusing writes", s.ToString());
    return e;
  }
  return {};
}

RocksMemory RocksEventStore::Memory() const { return MeasureRocksMemory(*db_, block_cache_.get()); }

uint64_t RocksEventStore::DiskBytes() const {
  uint64_t total = 0, v = 0;
  for (auto* h : handles_) {
    if (db_->GetIntProperty(h, rocksdb::DB::Properties::kTotalSstFilesSize, &v)) total += v;
  }
  return total;
}

StoreResult<void> RocksEventStore::CompactAll() {
  rocksdb::FlushOptions fo;
  rocksdb::Status s = db_->Flush(fo, handles_);
  if (!s.ok()) return StoreErrorFrom(s, "flush");
  rocksdb::CompactRangeOptions co;
  co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  for (auto* h : handles_) {
    s = db_->CompactRange(co, h, nullptr, nullptr);
    if (!s.ok()) return StoreErrorFrom(s, "compact");
  }
  return {};
}

StoreResult<EventStore::Backup> RocksEventStore::BackupTo(const std::string& dir) {
  // A database whose WAL writer failed must not be touched by the backup's WAL flush.
  {
    std::lock_guard l(write_mu_);
    if (needs_reopen_) return StoreError(StoreErrorCode::kWritesRefused, "no backup after a failed write: " + bg_error_->message);
  }
  Backup backup;
  backup.tip = Tip();  // acknowledged before the call: synced in the WAL the backup copies
  const std::string metadata = std::string(kBackupMetadataPrefix) + std::to_string(backup.tip.position) + " " +
                               Hex(backup.tip.hash.data(), backup.tip.hash.size());
  auto id = CreateRocksBackup(*db_, dir, metadata);
  if (!id) return id.error();
  backup.id = *id;
  StoreLog()->info("backup {} of {} into {}: tip at position {}", backup.id, options_.path, dir, backup.tip.position);
  return backup;
}

}  // namespace caseledger::eventstore
