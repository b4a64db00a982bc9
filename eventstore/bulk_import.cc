// Bulk import (bulk_import.h). In the order of the code (1 here; 2 and 3 in bulk_import_files.cc):
// 1. Add, on the caller's thread: the checks of the group commit's Prepare, against the
//    store and against this import's own state (per stream: head, data key, the
//    positions of its new events; claims; idempotency keys), then positions, sealing and
//    the record bodies (format::EncodeRecordBody), appended to the forming chunk.
// 2. A full chunk goes to the pool. A pool thread waits until the chunk before it has
//    been hashed, chains its records (format::ChainHash) from that tip, hands the tip on
//    and writes the chunk as one table file of the `events` family: hashing is the one
//    serial step, and it is short; compression and writing run on every pool thread.
// 1b. Every index_run_entries index entries (with the key seeds made meanwhile) and every
//    claim_run_entries claims are handed to a pool thread, which sorts and writes them as
//    a run (the index's: bulk_index_runs.h; the claims': bulk_runs.h; bulk_import_runs.cc)
//    while the next fills, so that memory does not grow with the events; a claim the
//    import saw before is found in the runs.
// 3. Commit merges the runs (and, as the newest, what is still in memory) into the stream
//    index and the claims (each cut into ranges of keys merged on threads of their own), while
//    the pool writes the last chunks, writes heads, keys
//    and idempotency records sorted, and ingests every file in one
//    IngestExternalFiles call under the store's write lock: atomic across the families,
//    so a failure or a crash before it leaves the store as it was. Then the store's
//    position, tip and listeners move as after a group commit.
// Invariant: the records and chain are byte for byte those the append path would write
// for the same requests at the same recorded-at (up to the random nonces of sealing and
// the random data keys, as two appends of the same request differ too).
#include "eventstore/bulk_import_impl.h"

#include "eventstore/append_checks.h"
#include "eventstore/store_logger.h"

#include <pthread.h>
#include <sodium.h>

#include <algorithm>
#include <filesystem>

namespace caseledger::eventstore {

using bulk_import_internal::Invalid;
using bulk_import_internal::StreamState;

BulkImport::Impl::~Impl() {
  StopPool();  // no run is written any more
  for (auto& s : stream_list_) sodium_memzero(s.state.data_key.data(), s.state.data_key.size());
  run_.Clear();
  index_flight_.Clear();
  index_runs_.reset();
  claim_runs_.reset();
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
  // Through the store's Env, as its own files (and the tests' faults).
  rocksdb::Env* env = store_.db_->GetEnv();
  index_runs_ = std::make_unique<bulk_import_internal::IndexRunFiles>(options_.work_dir + "/index-run", env);
  claim_runs_ = std::make_unique<bulk_import_internal::SortedRuns>(options_.work_dir + "/claim-run", env);
  {
    std::lock_guard l(store_.write_mu_);
    if (store_.bg_error_) return StoreError{StoreErrorCode::kWritesRefused, store_.bg_error_->message};
    first_position_ = next_position_ = store_.next_position_;
    tip_ = store_.tip_hash_;
  }
  empty_store_ = first_position_ == 1;
  run_.first = first_position_;
  if (!empty_store_) {
    // Recorded-at never goes backwards: the import starts at the log's last instant.
    auto last = store_.ReadLog(first_position_ - 1, 1);
    if (!last) return last.error();
    if (!last->empty()) last_recorded_ = last->front().recorded_at;
  }
  forming_.first_position = next_position_;
  forming_.starts.reserve(std::min<uint64_t>(options_.events_per_file, 1 << 20));
  // The claims' tables sized for 262,144 claims rather than grown by doubling from 15: their
  // rehashes were ~7 % of the import thread's time at 1:100 (295,616 claims). Not larger:
  // reserving 524,288 made the 1:100 load's peak RSS ~40 MiB higher.
  claims_.reserve(std::min<uint64_t>(options_.claim_run_entries, 1 << 18));
  claim_hashes_.reserve(1 << 18);
  options_.threads = std::max(1, options_.threads);
  options_.events_per_file = std::max<uint64_t>(1, options_.events_per_file);
  // A run's events are counted per stream in 32 bits (Touched::events).
  options_.index_run_entries = std::clamp<uint64_t>(options_.index_run_entries, 1, UINT32_MAX);
  options_.claim_run_entries = std::max<uint64_t>(1, options_.claim_run_entries);
  for (int i = 0; i < options_.threads; ++i) pool_.emplace_back([this] {
      pthread_setname_np(pthread_self(), "cl-bulk-pool");  // in top -H, perf and /proc
      Work();
    });
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

StoreResult<BulkImport::Impl::NamedStream*> BulkImport::Impl::Stream(std::string_view stream) {
  // Two appends in a row to one stream are most (68 % of the 1:100 load's): the last one
  // found is compared first, the table's hash and probe only for another.
  if (last_stream_ && last_stream_->name == stream) return last_stream_;
  if (auto it = streams_.find(stream); it != streams_.end()) {
    last_stream_ = &stream_list_[it->second];
    return last_stream_;
  }
  StreamState state;
  if (empty_store_) {
    state.key = StreamState::Key::kNone;
  } else {
    auto head = store_.LoadHead(std::string(stream));
    if (!head) return head.error();
    state.head = *head;
  }
  if (stream_list_.size() >= kMaxStreams) return StoreError{StoreErrorCode::kInvalidArgument, "bulk import: over 2^32 - 1 streams"};
  const auto index = static_cast<uint32_t>(stream_list_.size());
  NamedStream& added = stream_list_.emplace_back(NamedStream{std::string(stream), std::move(state), index});
  streams_.emplace(std::string_view(added.name), index);
  last_stream_ = &added;
  return &added;
}

StoreResult<std::optional<std::string>> BulkImport::Impl::ClaimOwner(const std::string& stored, size_t hash) {
  if (claim_hashes_.contains(hash)) {
    if (auto it = claims_.find(bulk_import_internal::ClaimRef{stored, bulk_import_internal::ClaimTableHash(hash)});
        it != claims_.end()) {
      if (!it->holder) return std::optional<std::string>();
      return std::optional<std::string>(*it->holder);
    }
    // The run in flight (claim_flight_): newer than the runs' files.
    if (claim_write_.pending) {
      if (auto it = claim_flight_.claims.find(bulk_import_internal::ClaimRef{stored, bulk_import_internal::ClaimTableHash(hash)});
          it != claim_flight_.claims.end()) {
        if (!it->holder) return std::optional<std::string>();
        return std::optional<std::string>(*it->holder);
      }
    }
    auto found = claim_runs_->Find(stored);
    if (!found) return found.error();
    if (*found) {
      if ((*found)->empty()) return std::optional<std::string>();
      return std::optional<std::string>(std::move(**found));
    }
  }
  if (empty_store_) return std::optional<std::string>();
  return store_.Get(store_.claims_, stored);
}

void BulkImport::Impl::HoldClaim(std::string_view claim, size_t hash, const std::string* holder) {
  claim_hashes_.insert(hash);
  auto [held, added] = claims_.insert(bulk_import_internal::ClaimKey{
      claim.data(), static_cast<uint32_t>(claim.size()), bulk_import_internal::ClaimTableHash(hash), holder});
  if (added) {
    held->data = claim_bytes_.Copy(claim);  // the same bytes: the key does not change
  } else {
    held->holder = holder;
  }
}

std::optional<StoreError> BulkImport::Impl::CheckRequest(const AppendRequest& r, size_t events, domain::Timestamp& at,
                                                         std::optional<AppendResult>* replay) {
  if (events == 0) return Invalid("no events to append");
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
      *replay = it->second.second;
      (*replay)->replayed = true;
      return std::nullopt;
    }
    if (!empty_store_) {
      auto found = store_.FindIdempotencyKey(r.idempotency_key);
      if (!found) return found.error();
      if (*found) {
        if ((*found)->digest != r.request_digest) {
          return StoreError{StoreErrorCode::kIdempotencyKeyReused, "idempotency key was used for another request"};
        }
        *replay = (*found)->result;
      }
    }
  }
  return std::nullopt;
}

StoreResult<BulkImport::StreamHandle> BulkImport::Impl::OpenStream(std::string_view stream) {
  if (auto failed = Failure()) return *failed;
  if (auto bad = CheckStreamName(stream)) return *bad;
  auto named = Stream(stream);
  if (!named) return named.error();
  return (*named)->index;
}

std::span<const BulkImport::EventView> BulkImport::Impl::ViewsOf(const AppendRequest& r) {
  views_.clear();
  for (const NewEvent& ev : r.events) views_.push_back({ev.type, ev.schema_version, ev.body, ev.personal, ev.effective_at});
  return views_;
}

StoreResult<BulkImport::Appended> BulkImport::Impl::Append(BulkImport::StreamHandle stream, AppendRequest&& r,
                                                           std::span<const BulkImport::EventView> events,
                                                           domain::Timestamp at) {
  if (!r.events.empty()) return Invalid("bulk import: events both in the request and by view");
  return AddByHandle(stream, std::move(r), events, at);
}

StoreResult<AppendResult> BulkImport::Impl::Add(BulkImport::StreamHandle stream, AppendRequest&& r,
                                                std::span<const BulkImport::EventView> events, domain::Timestamp at) {
  auto added = Append(stream, std::move(r), events, at);
  if (!added) return added.error();
  return Named(stream_list_[stream].name, *added);
}

StoreResult<AppendResult> BulkImport::Impl::Add(BulkImport::StreamHandle stream, AppendRequest&& r, domain::Timestamp at) {
  auto added = AddByHandle(stream, std::move(r), ViewsOf(r), at);
  if (!added) return added.error();
  return Named(stream_list_[stream].name, *added);
}

StoreResult<BulkImport::Appended> BulkImport::Impl::AddByHandle(BulkImport::StreamHandle stream, AppendRequest&& r,
                                                                std::span<const BulkImport::EventView> events,
                                                                domain::Timestamp at) {
  if (auto failed = Failure()) return *failed;
  if (stream >= stream_list_.size()) return Invalid("bulk import: no stream of handle " + std::to_string(stream));
  std::optional<AppendResult> replay;
  if (auto refused = CheckRequest(r, events.size(), at, &replay)) return *refused;
  if (replay) return BulkImport::Appended{replay->first_position, replay->last_position, replay->version, replay->replayed};
  return AddTo(stream_list_[stream], std::move(r), events, at);
}

StoreResult<AppendResult> BulkImport::Impl::Add(AppendRequest&& r, domain::Timestamp at) {
  if (auto failed = Failure()) return *failed;
  if (auto bad = CheckStreamName(r.stream)) return *bad;
  std::optional<AppendResult> replay;
  if (auto refused = CheckRequest(r, r.events.size(), at, &replay)) return *refused;
  if (replay) return *replay;
  auto named = Stream(r.stream);
  if (!named) return named.error();
  auto added = AddTo(**named, std::move(r), ViewsOf(r), at);
  if (!added) return added.error();
  return Named((*named)->name, *added);
}

StoreResult<BulkImport::Appended> BulkImport::Impl::AddTo(NamedStream& stream, AppendRequest&& r,
                                                  std::span<const BulkImport::EventView> events, domain::Timestamp at) {
  // The stream's name from the import's own list: a request handed over by handle has none.
  const std::string& name = stream.name;
  StreamState& st = stream.state;
  if (auto wrong = CheckExpectedVersion(r, name, st.head.version)) return *wrong;
  const PersonalVault* vault = store_.vault_.get();
  looked_up_hashes_.clear();
  const bool has_personal = std::any_of(events.begin(), events.end(), [](const auto& e) { return !e.personal.empty(); });
  auto checked = CheckClaims(r, has_personal, name, vault, [this](const std::string& stored, const ClaimRead*) {
    const size_t hash = bulk_import_internal::ClaimHash(stored);
    looked_up_hashes_.push_back(hash);
    return ClaimOwner(stored, hash);
  });
  if (!checked) return checked.error();
  const bool personal = checked->personal;
  std::vector<std::string>& claims = checked->taken;
  std::vector<std::string>& released = checked->released;
  if (personal || r.erase_personal_data) {
    if (st.key == StreamState::Key::kUnknown) {
      auto loaded = store_.LoadKey(name);
      if (!loaded) return loaded.error();
      using S = RocksEventStore::KeyLookup::State;
      st.key = loaded->state == S::kKey ? StreamState::Key::kKey
               : loaded->state == S::kErased ? StreamState::Key::kErased
                                             : StreamState::Key::kNone;
      st.data_key = loaded->key;
    }
    if (personal && st.key == StreamState::Key::kErased) {
      return Invalid("the personal data of " + name + " was erased; no more can be recorded");
    }
  }

  // Checks passed: nothing below can fail.
  if (st.run != run_number_) {  // its first events in this run of the index
    st.run = run_number_;
    st.run_slot = static_cast<uint32_t>(run_.streams.size());
    run_.streams.push_back({&stream.name, st.head.version + 1, st.run_slot});
  }
  if (personal && st.key == StreamState::Key::kNone) {
    PersonalVault::NewKey fresh = vault->NewStreamKey(name);
    st.data_key = fresh.key;
    run_.seeds[st.run_slot] = std::move(fresh.stored);
    sodium_memzero(fresh.key.data(), fresh.key.size());
    st.key = StreamState::Key::kKey;
    st.key_written = true;
  }
  BulkImport::Appended result{next_position_, 0, st.head.version, false};
  for (const BulkImport::EventView& ev : events) {
    // The record body written from the request (format::EncodeRecordBody's bytes, without
    // an Envelope to copy the stream, actor and ids into), the personal part sealed in place.
    const uint64_t version = ++result.version;
    const uint64_t pos = next_position_++;
    std::string& record = forming_.bytes;  // appended to: this record starts at its end
    forming_.starts.push_back(record.size());
    format::AppendRecordBodyUpToPersonal(
        record, {pos, name, version, ev.type, ev.schema_version, at, ev.effective_at, r.actor.id, r.actor.role,
                 r.correlation_id, r.causation_id, r.idempotency_key, ev.body});
    if (ev.personal.empty()) {
      format::AppendRecordLength(record, 0);
    } else {
      format::AppendRecordLength(record, kSealOverhead + ev.personal.size());
      PersonalVault::SealTo(record, st.data_key, name, version, ev.personal);
    }
    record.append(format::kMaxTrailerSize, '\0');  // room for the hash
    run_.slots.push_back(st.run_slot);
    result.last_position = pos;
  }
  st.head = {result.version, result.last_position};
  st.written = true;
  // The taken claims' hashes are the first looked up, in their order (CheckClaims asks about
  // each of the request's claims before any released one); the released claims kept are some
  // of those asked about after them (an erasure's: rare), hashed again.
  for (std::string& claim : released) {
    const size_t hash = bulk_import_internal::ClaimHash(claim);
    HoldClaim(claim, hash, nullptr);
  }
  for (size_t i = 0; i < claims.size(); ++i) HoldClaim(claims[i], looked_up_hashes_[i], &stream.name);
  if (r.erase_personal_data) {
    const bool stored_before = st.key == StreamState::Key::kKey && !st.key_written;
    st.key = StreamState::Key::kErased;
    st.key_written = true;
    if (auto seed = run_.seeds.find(st.run_slot); seed != run_.seeds.end()) {
      sodium_memzero(seed->second.data(), seed->second.size());
    }
    run_.seeds[st.run_slot] = "";  // the tombstone of the seed, in this run: newer than any run before
    sodium_memzero(st.data_key.data(), st.data_key.size());
    if (stored_before || !r.released_claims.empty()) {
      AppendRequest purge;
      purge.stream = name;
      purge.released_claims = r.released_claims;
      erasures_.push_back(std::move(purge));
    }
  }
  if (!r.idempotency_key.empty()) idempotency_[r.idempotency_key] = {r.request_digest, Named(name, result)};
  last_recorded_ = at;
  ++appends_;
  if (forming_.size() >= options_.events_per_file) Submit();
  if (run_.slots.size() >= options_.index_run_entries) {
    if (auto flushed = FlushIndexRun(); !flushed) {
      Fail(flushed.error());
      return flushed.error();
    }
  }
  if (claims_.size() >= options_.claim_run_entries) {
    if (auto flushed = FlushClaimRun(); !flushed) {
      Fail(flushed.error());
      return flushed.error();
    }
  }
  return result;
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

StoreResult<BulkImport::StreamHandle> BulkImport::OpenStream(std::string_view stream) { return impl_->OpenStream(stream); }

StoreResult<AppendResult> BulkImport::Add(StreamHandle stream, AppendRequest request, domain::Timestamp recorded_at) {
  return impl_->Add(stream, std::move(request), recorded_at);
}

StoreResult<AppendResult> BulkImport::Add(StreamHandle stream, AppendRequest request, std::span<const EventView> events,
                                          domain::Timestamp recorded_at) {
  return impl_->Add(stream, std::move(request), events, recorded_at);
}

StoreResult<BulkImport::Appended> BulkImport::Append(StreamHandle stream, AppendRequest&& request,
                                                     std::span<const EventView> events, domain::Timestamp recorded_at) {
  return impl_->Append(stream, std::move(request), events, recorded_at);
}

StoreResult<BulkImportStats> BulkImport::Commit() { return impl_->Commit(); }

uint64_t BulkImport::events() const { return impl_->events(); }

}  // namespace caseledger::eventstore
