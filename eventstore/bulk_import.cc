// Bulk import (bulk_import.h). In the order of the code below:
// 1. Add, on the caller's thread: the checks of the group commit's Prepare, against the
//    store and against this import's own state (per stream: head, data key, the
//    positions of its new events; claims; idempotency keys), then positions, sealing and
//    the record bodies (format::EncodeRecordBody), appended to the forming chunk.
// 2. A full chunk goes to the pool. A pool thread waits until the chunk before it has
//    been hashed, chains its records (format::ChainHash) from that tip, hands the tip on
//    and writes the chunk as one table file of the `events` family: hashing is the one
//    serial step, and it is short; compression and writing run on every pool thread.
// 3. Commit writes the stream index (split in key ranges, one file per pool thread),
//    heads, keys, claims and idempotency records sorted, and ingests every file in one
//    IngestExternalFiles call under the store's write lock: atomic across the families,
//    so a failure or a crash before it leaves the store as it was. Then the store's
//    position, tip and listeners move as after a group commit.
// Invariant: the records and chain are byte for byte those the append path would write
// for the same requests at the same recorded-at (up to the random nonces of sealing and
// the random data keys, as two appends of the same request differ too).
#include "eventstore/bulk_import.h"

#include "eventstore/rocks_event_store.h"
#include "eventstore/store_logger.h"

#include "domain/decision.h"

#include <rocksdb/sst_file_writer.h>
#include <sodium.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace caseledger::eventstore {
namespace {

StoreError FromStatus(const rocksdb::Status& s, const std::string& what) {
  return StoreError{s.IsCorruption() ? StoreErrorCode::kCorruption : StoreErrorCode::kIo,
                    "bulk import: " + what + ": " + s.ToString()};
}

StoreError Invalid(std::string message) { return StoreError{StoreErrorCode::kInvalidArgument, std::move(message)}; }

// One stream as the import leaves it.
struct StreamState {
  format::Head head;                // after the import's appends so far
  uint64_t first_version = 0;       // of the import's first event in it (0: none)
  std::vector<uint64_t> positions;  // of the import's events, in version order
  enum class Key : uint8_t { kUnknown, kNone, kKey, kErased } key = Key::kUnknown;
  bool key_written = false;  // the import writes the stream's key entry (a seed, or a tombstone)
  DataKey data_key{};
  std::string key_seed;      // the stored form of a new key (PersonalVault::NewStreamKey)
};

// A run of consecutive positions, hashed and written by one pool thread.
// What a table file is filled through: counts its entries (RocksDB refuses an empty file).
struct TableSink {
  rocksdb::SstFileWriter& writer;
  uint64_t entries = 0;
  rocksdb::Status Put(std::string_view key, std::string_view value) {
    ++entries;
    return writer.Put(rocksdb::Slice(key.data(), key.size()), rocksdb::Slice(value.data(), value.size()));
  }
  rocksdb::Status Delete(std::string_view key) {
    ++entries;
    return writer.Delete(rocksdb::Slice(key.data(), key.size()));
  }
};

struct Chunk {
  uint64_t index = 0;
  uint64_t first_position = 0;
  std::vector<std::string> records;  // record bodies
};

}  // namespace

class BulkImport::Impl {
 public:
  Impl(RocksEventStore& store, BulkImportOptions options) : store_(store), options_(std::move(options)) {}
  ~Impl();

  StoreResult<void> Start();
  StoreResult<AppendResult> Add(AppendRequest request, domain::Timestamp recorded_at);
  StoreResult<BulkImportStats> Commit();
  uint64_t events() const { return next_position_ - first_position_; }

 private:
  StoreResult<StreamState*> Stream(const std::string& stream);
  StoreResult<std::optional<std::string>> ClaimOwner(const std::string& stored) const;
  void Submit();
  void Work();
  StoreResult<void> WriteChunk(Chunk& chunk);
  // Writes one table file of `cf` filled by `fill` (nothing when it adds no entry).
  StoreResult<void> WriteTable(rocksdb::ColumnFamilyHandle* cf, const std::string& name,
                               const std::function<rocksdb::Status(TableSink&)>& fill);
  StoreResult<void> WriteIndexes();
  StoreResult<void> Ingest();
  std::optional<StoreError> Failure() const;
  void Fail(StoreError e);
  void StopPool();

  RocksEventStore& store_;
  BulkImportOptions options_;
  bool empty_store_ = false;  // nothing to look up in the store
  uint64_t first_position_ = 1;
  uint64_t next_position_ = 1;
  domain::Timestamp last_recorded_;
  uint64_t appends_ = 0;
  std::unordered_map<std::string, StreamState> streams_;
  std::unordered_map<std::string, std::string> claims_;  // stored claim -> stream ("" released)
  std::unordered_map<std::string, std::pair<std::string, AppendResult>> idempotency_;
  std::vector<AppendRequest> erasures_;  // of streams the store held: purged after ingestion
  Chunk forming_;
  uint64_t chunks_ = 0;

  // The pool, guarded by mu_.
  mutable std::mutex mu_;
  std::condition_variable work_cv_, space_cv_, chain_cv_;
  std::deque<Chunk> queue_;
  size_t busy_ = 0;
  bool stopping_ = false;
  std::optional<StoreError> error_;
  uint64_t hashed_chunks_ = 0;  // chunks whose chain is done
  domain::Hash tip_{};          // hash at the end of the last hashed chunk
  std::map<std::string, rocksdb::ColumnFamilyHandle*> files_;  // written, to ingest
  uint64_t file_bytes_ = 0;
  std::vector<std::thread> pool_;
  bool committed_ = false;
};

BulkImport::Impl::~Impl() {
  StopPool();
  for (auto& [name, s] : streams_) sodium_memzero(s.data_key.data(), s.data_key.size());
  std::error_code ec;
  if (!options_.work_dir.empty()) std::filesystem::remove_all(options_.work_dir, ec);
}

void BulkImport::Impl::StopPool() {
  {
    std::lock_guard l(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  chain_cv_.notify_all();
  space_cv_.notify_all();
  for (auto& t : pool_) t.join();
  pool_.clear();
}

StoreResult<void> BulkImport::Impl::Start() {
  if (options_.work_dir.empty()) return Invalid("bulk import: no work directory");
  std::error_code ec;
  std::filesystem::remove_all(options_.work_dir, ec);
  std::filesystem::create_directories(options_.work_dir, ec);
  if (ec) return StoreError{StoreErrorCode::kIo, "bulk import: cannot create " + options_.work_dir + ": " + ec.message()};
  {
    std::lock_guard l(store_.write_mu_);
    if (store_.bg_error_) return StoreError{StoreErrorCode::kWritesRefused, store_.bg_error_->message};
    first_position_ = next_position_ = store_.next_position_;
    tip_ = store_.tip_hash_;
  }
  empty_store_ = first_position_ == 1;
  if (!empty_store_) {
    // Recorded-at never goes backwards: the import starts at the log's last instant.
    auto last = store_.ReadLog(first_position_ - 1, 1);
    if (!last) return last.error();
    if (!last->empty()) last_recorded_ = last->front().recorded_at;
  }
  forming_.first_position = next_position_;
  options_.threads = std::max(1, options_.threads);
  options_.events_per_file = std::max<uint64_t>(1, options_.events_per_file);
  for (int i = 0; i < options_.threads; ++i) pool_.emplace_back([this] { Work(); });
  return {};
}

std::optional<StoreError> BulkImport::Impl::Failure() const {
  std::lock_guard l(mu_);
  return error_;
}

void BulkImport::Impl::Fail(StoreError e) {
  {
    std::lock_guard l(mu_);
    if (!error_) error_ = std::move(e);
  }
  chain_cv_.notify_all();
  space_cv_.notify_all();
}

StoreResult<StreamState*> BulkImport::Impl::Stream(const std::string& stream) {
  auto [it, added] = streams_.try_emplace(stream);
  if (added && !empty_store_) {
    auto head = store_.LoadHead(stream);
    if (!head) {
      streams_.erase(it);
      return head.error();
    }
    it->second.head = *head;
  }
  if (added && empty_store_) it->second.key = StreamState::Key::kNone;
  return &it->second;
}

StoreResult<std::optional<std::string>> BulkImport::Impl::ClaimOwner(const std::string& stored) const {
  if (auto it = claims_.find(stored); it != claims_.end()) {
    if (it->second.empty()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  if (empty_store_) return std::optional<std::string>();
  return store_.Get(store_.claims_, stored);
}

StoreResult<AppendResult> BulkImport::Impl::Add(AppendRequest r, domain::Timestamp at) {
  if (auto failed = Failure()) return *failed;
  if (r.stream.empty() || r.stream.find('\0') != std::string::npos) return Invalid("stream id must be non-empty text");
  if (r.events.empty()) return Invalid("no events to append");
  if (at.micros == 0) {
    at = std::max(store_.Now(), last_recorded_);
  } else if (at < last_recorded_) {
    return Invalid("recorded-at " + at.ToString() + " is before " + last_recorded_.ToString() +
                   ", the previous event's: the log must stay in recorded order");
  }

  if (!r.idempotency_key.empty()) {
    if (auto it = idempotency_.find(r.idempotency_key); it != idempotency_.end()) {
      if (it->second.first != r.request_digest) {
        return StoreError{StoreErrorCode::kIdempotencyKeyReused, "idempotency key was used for another request"};
      }
      AppendResult replay = it->second.second;
      replay.replayed = true;
      return replay;
    }
    if (!empty_store_) {
      auto found = store_.FindIdempotencyKey(r.idempotency_key);
      if (!found) return found.error();
      if (*found) {
        if ((*found)->digest != r.request_digest) {
          return StoreError{StoreErrorCode::kIdempotencyKeyReused, "idempotency key was used for another request"};
        }
        return (*found)->result;
      }
    }
  }

  auto stream_state = Stream(r.stream);
  if (!stream_state) return stream_state.error();
  StreamState& st = **stream_state;
  const ExpectedVersion& ex = r.expected;
  const bool version_ok = ex.kind == ExpectedVersion::Kind::kAny ||
                          (ex.kind == ExpectedVersion::Kind::kNoStream && st.head.version == 0) ||
                          (ex.kind == ExpectedVersion::Kind::kExact && st.head.version == ex.version);
  if (!version_ok) {
    return StoreError{StoreErrorCode::kWrongExpectedVersion,
                      "stream " + r.stream + " is at version " + std::to_string(st.head.version), st.head.version};
  }

  const bool personal = std::any_of(r.events.begin(), r.events.end(), [](const NewEvent& e) { return !e.personal.empty(); });
  const bool personal_claims =
      std::any_of(r.claims.begin(), r.claims.end(), domain::IsPersonalClaim) ||
      std::any_of(r.released_claims.begin(), r.released_claims.end(), domain::IsPersonalClaim);
  const PersonalVault* vault = store_.vault_.get();
  if (!vault && (personal || personal_claims || r.erase_personal_data)) {
    return Invalid("the store was opened without a master key: it cannot record personal data");
  }
  auto stored_claim = [&](const std::string& claim) { return vault ? vault->BlindClaim(claim) : claim; };
  std::vector<std::string> claims, released;
  for (const std::string& claim : r.claims) {
    claims.push_back(stored_claim(claim));
    auto owner = ClaimOwner(claims.back());
    if (!owner) return owner.error();
    if (*owner && **owner != r.stream) {
      StoreError e{StoreErrorCode::kClaimTaken, claims.back() + " is already taken"};
      e.claim = claims.back();
      e.claim_owner = **owner;
      return e;
    }
  }
  for (const std::string& claim : r.released_claims) {
    std::string stored = stored_claim(claim);
    auto owner = ClaimOwner(stored);
    if (!owner) return owner.error();
    if (*owner && **owner == r.stream) released.push_back(std::move(stored));
  }
  if (personal || r.erase_personal_data) {
    if (st.key == StreamState::Key::kUnknown) {
      auto loaded = store_.LoadKey(r.stream);
      if (!loaded) return loaded.error();
      using S = RocksEventStore::KeyLookup::State;
      st.key = loaded->state == S::kKey ? StreamState::Key::kKey
               : loaded->state == S::kErased ? StreamState::Key::kErased
                                             : StreamState::Key::kNone;
      st.data_key = loaded->key;
    }
    if (personal && st.key == StreamState::Key::kErased) {
      return Invalid("the personal data of " + r.stream + " was erased; no more can be recorded");
    }
  }

  // Checks passed: nothing below can fail.
  if (personal && st.key == StreamState::Key::kNone) {
    PersonalVault::NewKey fresh = vault->NewStreamKey(r.stream);
    st.data_key = fresh.key;
    st.key_seed = std::move(fresh.stored);
    sodium_memzero(fresh.key.data(), fresh.key.size());
    st.key = StreamState::Key::kKey;
    st.key_written = true;
  }
  AppendResult result{r.stream, next_position_, 0, st.head.version, false};
  for (NewEvent& ev : r.events) {
    domain::Envelope env;
    env.stream = r.stream;
    env.version = ++result.version;
    env.type = std::move(ev.type);
    env.schema_version = ev.schema_version;
    env.recorded_at = at;
    env.effective_at = ev.effective_at;
    env.actor = r.actor;
    env.correlation_id = r.correlation_id;
    env.causation_id = r.causation_id;
    env.idempotency_key = r.idempotency_key;
    env.body = std::move(ev.body);
    if (!ev.personal.empty()) env.personal = PersonalVault::Seal(st.data_key, r.stream, env.version, ev.personal);
    const uint64_t pos = next_position_++;
    env.position = pos;  // decides the record's layout: an anchor or not
    forming_.records.push_back(format::EncodeRecordBody(env));
    if (st.first_version == 0) st.first_version = env.version;
    st.positions.push_back(pos);
    result.last_position = pos;
  }
  st.head = {result.version, result.last_position};
  for (std::string& claim : released) claims_[std::move(claim)] = "";
  for (std::string& claim : claims) claims_[std::move(claim)] = r.stream;
  if (r.erase_personal_data) {
    const bool stored_before = st.key == StreamState::Key::kKey && !st.key_written;
    st.key = StreamState::Key::kErased;
    st.key_written = true;
    st.key_seed.clear();
    sodium_memzero(st.data_key.data(), st.data_key.size());
    if (stored_before || !r.released_claims.empty()) {
      AppendRequest purge;
      purge.stream = r.stream;
      purge.released_claims = r.released_claims;
      erasures_.push_back(std::move(purge));
    }
  }
  if (!r.idempotency_key.empty()) idempotency_[r.idempotency_key] = {r.request_digest, result};
  last_recorded_ = at;
  ++appends_;
  if (forming_.records.size() >= options_.events_per_file) Submit();
  return result;
}

void BulkImport::Impl::Submit() {
  if (forming_.records.empty()) return;
  Chunk chunk = std::move(forming_);
  chunk.index = chunks_++;
  forming_ = Chunk{};
  forming_.first_position = next_position_;
  std::unique_lock l(mu_);
  // At most one chunk waiting per pool thread: memory stays bounded.
  space_cv_.wait(l, [&] { return error_ || stopping_ || queue_.size() < pool_.size(); });
  queue_.push_back(std::move(chunk));
  l.unlock();
  work_cv_.notify_one();
}

void BulkImport::Impl::Work() {
  for (;;) {
    Chunk chunk;
    {
      std::unique_lock l(mu_);
      work_cv_.wait(l, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      chunk = std::move(queue_.front());
      queue_.pop_front();
      ++busy_;
    }
    space_cv_.notify_one();
    auto written = WriteChunk(chunk);
    if (!written) Fail(written.error());
    {
      std::lock_guard l(mu_);
      --busy_;
    }
    space_cv_.notify_all();
  }
}

StoreResult<void> BulkImport::Impl::WriteChunk(Chunk& chunk) {
  domain::Hash prev{};
  {
    std::unique_lock l(mu_);
    chain_cv_.wait(l, [&] { return error_ || stopping_ || hashed_chunks_ == chunk.index; });
    if (error_ || stopping_) return {};
    prev = tip_;
  }
  std::vector<domain::Hash> hashes(chunk.records.size());
  for (size_t i = 0; i < chunk.records.size(); ++i) {
    prev = format::ChainHash(prev, chunk.first_position + i, chunk.records[i]);
    hashes[i] = prev;
  }
  {
    std::lock_guard l(mu_);
    tip_ = prev;
    ++hashed_chunks_;
  }
  chain_cv_.notify_all();
  char name[32];
  std::snprintf(name, sizeof name, "events-%06llu.sst", static_cast<unsigned long long>(chunk.index));
  return WriteTable(store_.events_, name, [&](TableSink& w) {
    for (size_t i = 0; i < chunk.records.size(); ++i) {
      rocksdb::Status s = w.Put(format::PositionKey(chunk.first_position + i), format::EncodeValue(chunk.records[i], hashes[i]));
      if (!s.ok()) return s;
      std::string().swap(chunk.records[i]);
    }
    return rocksdb::Status::OK();
  });
}

StoreResult<void> BulkImport::Impl::WriteTable(rocksdb::ColumnFamilyHandle* cf, const std::string& name,
                                               const std::function<rocksdb::Status(TableSink&)>& fill) {
  rocksdb::DB* db = store_.db_.get();
  rocksdb::Options options(db->GetDBOptions(), db->GetOptions(cf));
  // The family's own compression, but a writer that is not compaction buffers a whole file
  // before it builds the dictionary: bound that, and build it from samples without zstd's
  // trainer, which cost more than the compression itself.
  if (options.bottommost_compression_opts.enabled && options.bottommost_compression_opts.max_dict_bytes > 0) {
    options.bottommost_compression_opts.max_dict_buffer_bytes = 8 << 20;
    options.bottommost_compression_opts.use_zstd_dict_trainer = false;
  }
  rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), options, cf);
  const std::string path = options_.work_dir + "/" + name;
  rocksdb::Status s = writer.Open(path);
  if (!s.ok()) return FromStatus(s, "open " + path);
  TableSink sink{writer};
  s = fill(sink);
  if (!s.ok()) return FromStatus(s, "write " + path);
  if (sink.entries == 0) {  // nothing to ingest
    std::error_code ec;
    std::filesystem::remove(path, ec);
    return {};
  }
  rocksdb::ExternalSstFileInfo info;
  s = writer.Finish(&info);
  if (!s.ok()) return FromStatus(s, "finish " + path);
  std::lock_guard l(mu_);
  files_.emplace(path, cf);
  file_bytes_ += info.file_size;
  return {};
}

StoreResult<void> BulkImport::Impl::WriteIndexes() {
  std::vector<std::pair<const std::string*, const StreamState*>> sorted;
  sorted.reserve(streams_.size());
  uint64_t entries = 0;
  for (const auto& [name, s] : streams_) {
    if (s.positions.empty() && !s.key_written) continue;  // only rejected requests named it
    sorted.emplace_back(&name, &s);
    entries += s.positions.size();
  }
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return *a.first < *b.first; });

  // The stream index, in key ranges of about equal size, one file per pool thread.
  const size_t parts = static_cast<size_t>(options_.threads);
  std::vector<size_t> bounds{0};
  uint64_t seen = 0;
  for (size_t i = 0; i < sorted.size(); ++i) {
    seen += sorted[i].second->positions.size();
    if (bounds.size() < parts && seen * parts >= entries * bounds.size()) bounds.push_back(i + 1);
  }
  if (bounds.back() != sorted.size()) bounds.push_back(sorted.size());
  std::vector<std::thread> writers;
  std::mutex failed_mu;
  std::optional<StoreError> failed;
  for (size_t part = 0; part + 1 < bounds.size(); ++part) {
    writers.emplace_back([&, part] {
      auto written = WriteTable(store_.streams_, "streams-" + std::to_string(part) + ".sst", [&](TableSink& w) {
        for (size_t i = bounds[part]; i < bounds[part + 1]; ++i) {
          const auto& [name, s] = sorted[i];
          // The key seed sits at version 0, before the stream's index entries; empty: erased.
          if (s->key_written) {
            rocksdb::Status st = w.Put(format::KeySeedKey(*name), s->key == StreamState::Key::kErased ? "" : s->key_seed);
            if (!st.ok()) return st;
          }
          for (size_t k = 0; k < s->positions.size(); ++k) {
            rocksdb::Status st = w.Put(format::StreamKey(*name, s->first_version + k), format::EncodePositionRef(s->positions[k]));
            if (!st.ok()) return st;
          }
        }
        return rocksdb::Status::OK();
      });
      if (!written) {
        std::lock_guard l(failed_mu);
        if (!failed) failed = written.error();
      }
    });
  }
  // Meanwhile, on this thread: heads, keys, claims and idempotency records.
  auto heads = WriteTable(store_.heads_, "heads.sst", [&](TableSink& w) {
    for (const auto& [name, s] : sorted) {
      if (s->positions.empty()) continue;
      if (auto st = w.Put(*name, format::EncodeHead(s->head)); !st.ok()) return st;
    }
    return rocksdb::Status::OK();
  });
  auto keys = WriteTable(store_.keys_, "keys.sst", [&](TableSink& w) {
    for (const auto& [name, s] : sorted) {
      // The tombstone of an erased key, in the keys family too (a stream keyed before
      // format 3 kept its key there), as the group commit writes it.
      if (!s->key_written || s->key != StreamState::Key::kErased) continue;
      if (auto st = w.Put(*name, ""); !st.ok()) return st;
    }
    return rocksdb::Status::OK();
  });
  std::vector<std::pair<std::string_view, std::string_view>> claims(claims_.begin(), claims_.end());
  std::sort(claims.begin(), claims.end());
  auto claimed = WriteTable(store_.claims_, "claims.sst", [&](TableSink& w) {
    for (const auto& [claim, stream] : claims) {
      rocksdb::Status st = stream.empty() ? w.Delete(claim) : w.Put(claim, stream);
      if (!st.ok()) return st;
    }
    return rocksdb::Status::OK();
  });
  std::vector<const std::pair<const std::string, std::pair<std::string, AppendResult>>*> keyed;
  for (const auto& entry : idempotency_) keyed.push_back(&entry);
  std::sort(keyed.begin(), keyed.end(), [](auto* a, auto* b) { return a->first < b->first; });
  auto idempotent = WriteTable(store_.idempotency_, "idempotency.sst", [&](TableSink& w) {
    for (const auto* entry : keyed) {
      const AppendResult& r = entry->second.second;
      format::IdempotencyRecord rec{entry->second.first, r.stream, r.first_position, r.last_position, r.version};
      if (auto st = w.Put(entry->first, format::EncodeIdempotency(rec)); !st.ok()) return st;
    }
    return rocksdb::Status::OK();
  });
  for (auto& t : writers) t.join();
  for (auto* r : {&heads, &keys, &claimed, &idempotent}) {
    if (!*r) return r->error();
  }
  if (failed) return *failed;
  return {};
}

StoreResult<void> BulkImport::Impl::Ingest() {
  std::map<rocksdb::ColumnFamilyHandle*, std::vector<std::string>> by_family;
  for (const auto& [path, cf] : files_) by_family[cf].push_back(path);
  std::vector<rocksdb::IngestExternalFileArg> args;
  for (auto& [cf, paths] : by_family) {
    rocksdb::IngestExternalFileArg arg;
    arg.column_family = cf;
    arg.external_files = std::move(paths);
    arg.options.move_files = true;  // linked: the files are on the store's file system
    arg.options.write_global_seqno = false;
    args.push_back(std::move(arg));
  }
  const uint64_t last = next_position_ - 1;
  std::vector<std::function<void(uint64_t)>> listeners;
  {
    std::lock_guard l(store_.write_mu_);
    if (store_.bg_error_) return StoreError{StoreErrorCode::kWritesRefused, store_.bg_error_->message};
    if (store_.next_position_ != first_position_ || !store_.ready_.empty() || store_.syncing_) {
      return StoreError{StoreErrorCode::kWrongExpectedVersion,
                        "bulk import: the store was appended to during the import; nothing was imported"};
    }
    if (!args.empty()) {
      rocksdb::Status s = store_.db_->IngestExternalFiles(args);
      if (!s.ok()) return FromStatus(s, "ingest");
    }
    if (last < first_position_) return {};  // nothing was added
    store_.next_position_ = last + 1;
    store_.tip_hash_ = tip_;
    store_.last_recorded_ = std::max(store_.last_recorded_, last_recorded_);
    store_.stats_.events += last + 1 - first_position_;
    store_.stats_.appends += appends_;
    {
      std::lock_guard tl(store_.tip_mu_);
      store_.tip_ = ChainTip{last, tip_};
    }
    std::lock_guard cl(store_.commit_mu_);
    store_.committed_.store(last, std::memory_order_release);
    listeners = store_.listeners_;
  }
  for (const AppendRequest& erased : erasures_) {
    store_.vault_->MarkErased(erased.stream);
    store_.PurgeErased(erased);
  }
  store_.commit_cv_.notify_all();
  for (auto& f : listeners) f(last);
  return {};
}

StoreResult<BulkImportStats> BulkImport::Impl::Commit() {
  if (committed_) return Invalid("bulk import: committed already");
  committed_ = true;
  if (auto failed = Failure()) return *failed;
  const auto started = std::chrono::steady_clock::now();
  auto since = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(); };
  Submit();
  {
    std::unique_lock l(mu_);
    space_cv_.wait(l, [&] { return error_ || (queue_.empty() && busy_ == 0); });
  }
  if (auto failed = Failure()) return *failed;
  StopPool();
  const double log_written = since();
  if (auto indexes = WriteIndexes(); !indexes) return indexes.error();
  const double indexes_written = since();
  if (auto ingested = Ingest(); !ingested) return ingested.error();
  std::error_code ec;
  std::filesystem::remove_all(options_.work_dir, ec);  // its files were moved into the store
  StoreLog()->info("bulk import commit: last chunks written in {:.2f} s, indexes in {:.2f} s, ingested in {:.2f} s",
                   log_written, indexes_written - log_written, since() - indexes_written);
  BulkImportStats stats;
  stats.appends = appends_;
  stats.events = next_position_ - first_position_;
  for (const auto& [name, s] : streams_) stats.streams += !s.positions.empty();
  stats.files = files_.size();
  stats.file_bytes = file_bytes_;
  stats.first_position = first_position_;
  stats.last_position = next_position_ - 1;
  StoreLog()->info("bulk import: {} events at positions {}..{} in {} files ({} bytes)", stats.events,
                   stats.first_position, stats.last_position, stats.files, stats.file_bytes);
  return stats;
}

StoreResult<std::unique_ptr<BulkImport>> BulkImport::Begin(EventStore& store, BulkImportOptions options) {
  auto* rocks = dynamic_cast<RocksEventStore*>(&store);
  if (!rocks) return Invalid("bulk import needs the RocksDB store");
  std::unique_ptr<BulkImport> import(new BulkImport());
  import->impl_ = std::make_unique<Impl>(*rocks, std::move(options));
  if (auto started = import->impl_->Start(); !started) return started.error();
  return import;
}

BulkImport::~BulkImport() = default;

StoreResult<AppendResult> BulkImport::Add(AppendRequest request, domain::Timestamp recorded_at) {
  return impl_->Add(std::move(request), recorded_at);
}

StoreResult<BulkImportStats> BulkImport::Commit() { return impl_->Commit(); }

uint64_t BulkImport::events() const { return impl_->events(); }

}  // namespace caseledger::eventstore
