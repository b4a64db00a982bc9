// Opening, recovery and reads of the RocksDB event store. The write path (group commit)
// is in group_commit.cc.
#include "eventstore/rocks_event_store.h"

#include "eventstore/disk_space.h"
#include "eventstore/file_write.h"
#include "eventstore/rocks_backup.h"
#include "eventstore/rocks_info_log.h"
#include "eventstore/rocks_memory.h"
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
#include <stdexcept>

namespace caseledger::eventstore {

void throw_exception_from_error(const StoreError& e, const boost::source_location& loc) {
  throw std::logic_error(std::string("value() on a store error at ") + loc.file_name() + ":" +
                         std::to_string(loc.line()) + ": " + e.message);
}

namespace {

StoreError FromStatus(const rocksdb::Status& s, const char* what) {
  StoreError e;
  e.code = s.IsCorruption() ? StoreErrorCode::kCorruption
           : s.IsNoSpace()  ? StoreErrorCode::kNoSpace
                            : StoreErrorCode::kIo;
  e.message = std::string(what) + ": " + s.ToString();
  return e;
}

// How one column family is stored.
struct FamilyLayout {
  bool point_lookups = false;  // a Bloom filter: Gets of keys that may not exist
  bool compress = true;
  size_t block_size = 16 * 1024;
  // Keys stored whole every this many entries (the rest share their prefix with the one
  // before): more for families read in order, whose keys share long prefixes.
  int restart_interval = 16;
};

// A stream index key's stream ("<stream>\0"; the key is that and the version, 8 bytes).
// Used only as the memtable's insert hint: a stream's next index entry goes right after its
// last one, which the skip list then finds from the hint instead of searching from its top
// (a command's index entry was a search through the whole memtable, among the sync
// thread's costliest steps).
class StreamOfIndexKey final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "caseledger.StreamOfIndexKey"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override { return {key.data(), key.size() - 8}; }
  bool InDomain(const rocksdb::Slice& key) const override { return key.size() > 8; }
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
  families[2].options.memtable_insert_with_hint_prefix_extractor = std::make_shared<StreamOfIndexKey>();
  // One insert hint for each whole family (a prefix of no bytes): the group commit writes
  // the heads', claims' and idempotency records' keys of a group in key order
  // (AddKeyedWrites), and with one shared hint the memtable's skip list is searched for each
  // from where the one before it went, only up as far as the two keys' distance requires,
  // instead of from its top.
  for (size_t f : {3, 4, 5}) {
    families[f].options.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(0));
  }
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
  rocksdb::Status s = rocksdb::DB::Open(db_options, options.path, families, &store->handles_, &raw);
  if (!s.ok()) return FromStatus(s, "open");
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
    if (!s.ok()) return FromStatus(s, "write format marker");
    if (!format_version.empty()) {
      StoreLog()->info("upgraded {} from {} to {}", options.path, format_version, format::kFormatVersion);
    }
  } else if (!s.ok()) {
    return FromStatus(s, "read format marker");
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
  store->syncer_ = std::thread([s = store.get()] {
    pthread_setname_np(pthread_self(), "cl-commit");  // in top -H, perf and /proc
    s->SyncLoop();
  });
  StoreLog()->info("opened {} at position {}", options.path, store->CommittedPosition());
  return std::unique_ptr<EventStore>(std::move(store));
}

RocksEventStore::~RocksEventStore() {
  if (syncer_.joinable()) {
    {
      std::lock_guard l(write_mu_);
      stopping_ = true;
    }
    sync_cv_.notify_one();
    syncer_.join();  // answers every group formed before
  }
  if (!db_) return;
  for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  db_->Close();
}

StoreResult<void> RocksEventStore::Recover(uint64_t verify_tail) {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), events_));
  it->SeekToLast();
  if (!it->status().ok()) return FromStatus(it->status(), "seek log end");
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
    if (!it->status().ok()) return FromStatus(it->status(), "verify log tail");
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
  if (!s.ok()) return FromStatus(s, "get");
  return std::optional<std::string>(std::move(value));
}

void RocksEventStore::SetTip(const ChainTip& tip) {
  tip_ = tip;
  recent_tips_[next_recent_tip_++ % recent_tips_.size()] = tip;
}

StoreResult<Hash> RocksEventStore::HashAt(uint64_t position) const {
  if (position == 0) return Hash{};
  {
    std::lock_guard l(tip_mu_);
    for (const ChainTip& t : recent_tips_) {
      if (t.position == position) return t.hash;
    }
  }
  // Back to the nearest record that stores its whole hash (an anchor: every kAnchorEvery-th
  // position in layouts 3-4, every record before), then forward, recomputing each link.
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), events_));
  std::vector<std::pair<uint64_t, std::string>> links;  // after the anchor, newest first
  Hash hash{};
  uint64_t pos = position;
  for (it->Seek(format::PositionKey(position)); pos > 0; it->Prev(), --pos) {
    if (!it->Valid() || it->key().size() != 8 || format::DecodeFixed64BE(it->key().data()) != pos) {
      if (!it->status().ok()) return FromStatus(it->status(), "read hash");
      return StoreError{StoreErrorCode::kCorruption, "missing position", 0, pos};
    }
    auto split = format::Split({it->value().data(), it->value().size()});
    if (!split) return StoreError{StoreErrorCode::kCorruption, "short record", 0, pos};
    if (split->whole) {
      hash = split->hash;
      break;
    }
    links.emplace_back(pos, it->value().ToString());
  }
  for (auto link = links.rbegin(); link != links.rend(); ++link) {
    auto split = format::Split(link->second);
    hash = format::ChainHash(hash, link->first, split->record_body);
    if (!split->Matches(hash)) {
      return StoreError{StoreErrorCode::kCorruption,
                        "hash chain broken at position " + std::to_string(link->first), 0, link->first};
    }
  }
  return hash;
}

StoreResult<Envelope> RocksEventStore::DecodeAt(uint64_t position, std::string_view value,
                                                const Hash& prev, bool open_personal) const {
  Envelope e;
  if (auto decoded = DecodeInto(position, value, prev, open_personal, e); !decoded) return decoded.error();
  return e;
}

StoreResult<void> RocksEventStore::DecodeInto(uint64_t position, std::string_view value, const Hash& prev,
                                              bool open_personal, Envelope& e) const {
  auto split = format::Split(value);
  if (!split || !format::DecodeRecordBody(split->record_body, e)) {
    return StoreError{StoreErrorCode::kCorruption,
                      "record at position " + std::to_string(position) + " does not decode", 0,
                      position};
  }
  e.position = position;
  e.prev_hash = prev;
  if (split->whole) {
    e.hash = split->hash;
  } else {
    e.hash = format::ChainHash(prev, position, split->record_body);
    if (!split->Matches(e.hash)) {
      return StoreError{StoreErrorCode::kCorruption,
                        "hash chain broken at position " + std::to_string(position), 0, position};
    }
  }
  if (e.personal_form == domain::PersonalForm::kSealed) {
    if (!open_personal) {
      e.personal.clear();
    } else if (auto opened = OpenPersonal(e); !opened) {
      return opened.error();
    }
  }
  return {};
}

StoreResult<std::vector<Envelope>> RocksEventStore::ReadLog(uint64_t from_position,
                                                            size_t max_count) const {
  std::vector<Envelope> out;
  if (auto read = ReadLogInto(from_position, max_count, out); !read) return read.error();
  return out;
}

StoreResult<void> RocksEventStore::ReadLogInto(uint64_t from_position, size_t max_count,
                                               std::vector<Envelope>& out) const {
  uint64_t until = CommittedPosition();
  if (from_position == 0) from_position = 1;
  if (from_position > until || max_count == 0) {
    out.clear();
    return {};
  }
  // The envelopes `out` holds are decoded into, not destroyed: their strings keep their
  // buffers (DecodeRecordBody assigns every field).
  const size_t want = std::min<uint64_t>(max_count, until - from_position + 1);
  if (out.size() > want) out.resize(want);
  out.reserve(want);
  auto prev = HashAt(from_position - 1);
  if (!prev) return prev.error();
  Hash prev_hash = *prev;
  // A scan of the log (the views, the relay, a rebuild) reads each block once: kept out of
  // the block cache, it would only push out what queries read again (stream index, heads)
  // and fill the cache to its bound with blocks nobody reads twice.
  rocksdb::ReadOptions scan;
  scan.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(scan, events_));
  uint64_t pos = from_position;
  size_t n = 0;
  for (it->Seek(format::PositionKey(pos)); it->Valid() && pos <= until && n < want; it->Next(), ++pos) {
    if (format::DecodeFixed64BE(it->key().data()) != pos) {
      return StoreError{StoreErrorCode::kCorruption, "gap in the log", 0, pos};
    }
    if (n == out.size()) out.emplace_back();
    auto decoded = DecodeInto(pos, {it->value().data(), it->value().size()}, prev_hash, false, out[n]);
    if (!decoded) return decoded.error();
    prev_hash = out[n].hash;
    ++n;
  }
  out.resize(n);
  if (!it->status().ok()) return FromStatus(it->status(), "read log");
  return {};
}

StoreResult<std::vector<Envelope>> RocksEventStore::ReadStream(const std::string& stream,
                                                               uint64_t from_version,
                                                               size_t max_count) const {
  std::vector<Envelope> out;
  const std::string prefix = format::StreamPrefix(stream);
  uint64_t until = CommittedPosition();
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), streams_));
  std::vector<uint64_t> positions;
  for (it->Seek(format::StreamKey(stream, std::max<uint64_t>(from_version, 1)));
       it->Valid() && positions.size() < max_count; it->Next()) {
    rocksdb::Slice k = it->key();
    if (k.size() != prefix.size() + 8 || std::memcmp(k.data(), prefix.data(), prefix.size()) != 0) break;
    auto ref = format::DecodePositionRef({it->value().data(), it->value().size()});
    if (!ref) return StoreError{StoreErrorCode::kCorruption, "bad stream index entry of " + stream};
    uint64_t pos = *ref;
    if (pos > until) break;  // written but not yet acknowledged to anyone
    positions.push_back(pos);
  }
  if (!it->status().ok()) return FromStatus(it->status(), "read stream index");
  if (positions.empty()) return out;
  std::vector<std::string> keys;
  keys.reserve(positions.size());
  for (uint64_t p : positions) keys.push_back(format::PositionKey(p));
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::ColumnFamilyHandle*> cfs(keys.size(), events_);
  std::vector<std::string> values;
  auto statuses = db_->MultiGet(rocksdb::ReadOptions(), cfs, slices, &values);
  for (size_t i = 0; i < positions.size(); ++i) {
    if (!statuses[i].ok()) {
      StoreError e = FromStatus(statuses[i], "read stream event");
      e.code = StoreErrorCode::kCorruption;
      e.position = positions[i];
      return e;
    }
    // The previous hash belongs to the log, not the stream: read it from position - 1.
    auto prev = HashAt(positions[i] - 1);
    if (!prev) return prev.error();
    auto env = DecodeAt(positions[i], values[i], *prev, true);
    if (!env) return env.error();
    if (env->stream != stream) {
      return StoreError{StoreErrorCode::kCorruption, "stream index points to another stream", 0,
                        positions[i]};
    }
    out.push_back(std::move(*env));
  }
  return out;
}

StoreResult<uint64_t> RocksEventStore::StreamVersion(const std::string& stream) const {
  auto head = LoadHead(stream);
  if (!head) return head.error();
  return head->version;
}

StoreResult<std::optional<std::string>> RocksEventStore::ClaimOwner(const std::string& claim) const {
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
  auto v = Get(idempotency_, key);
  if (!v) return v.error();
  if (!*v) return std::optional<IdempotentAnswer>();
  auto rec = format::DecodeIdempotency(**v);
  if (!rec) return StoreError{StoreErrorCode::kCorruption, "bad idempotency record"};
  // Only answers whose events are committed count; the record is written with them.
  return std::optional<IdempotentAnswer>(IdempotentAnswer{
      rec->digest, AppendResult{rec->stream, rec->first_position, rec->last_position, rec->version, true}});
}

ChainTip RocksEventStore::Tip() const {
  std::lock_guard l(tip_mu_);
  return tip_;
}

bool RocksEventStore::WaitForPosition(uint64_t position, std::chrono::milliseconds timeout) const {
  std::unique_lock l(commit_mu_);
  return commit_cv_.wait_for(l, timeout, [&] { return CommittedPosition() >= position; });
}

void RocksEventStore::AddCommitListener(std::function<void(uint64_t)> listener) {
  std::lock_guard l(commit_mu_);
  listeners_.push_back(std::move(listener));
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
    StoreError e = FromStatus(s, "put checkpoint");
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
  if (!s.ok()) return FromStatus(s, "flush");
  rocksdb::CompactRangeOptions co;
  co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  for (auto* h : handles_) {
    s = db_->CompactRange(co, h, nullptr, nullptr);
    if (!s.ok()) return FromStatus(s, "compact");
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
