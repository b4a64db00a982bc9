// The write path: group commit in the style of leveldb's DBImpl::Write. Appenders queue;
// the one at the front becomes leader, takes a group of queued requests, checks each
// against the heads, claims and idempotency keys (and against the requests before it in
// the same group), assigns gap-free positions and chain hashes, and writes one WriteBatch
// with one WAL sync. Only then does the committed watermark advance, so a reader bounded
// by it never sees a position that could still vanish or a gap behind it.
#include "eventstore/rocks_event_store.h"

#include "eventstore/store_logger.h"

#include "domain/decision.h"

#include <sodium.h>

#include <algorithm>

namespace caseledger::eventstore {
namespace {

StoreError Refused(const StoreError& cause) {
  return StoreError{StoreErrorCode::kWritesRefused,
                    "store refuses writes after a failed write (" + cause.message +
                        "); restart to recover from the WAL"};
}

}  // namespace

StoreResult<format::Head> RocksEventStore::LoadHead(const std::string& stream,
                                                    GroupState& group) const {
  if (auto it = group.heads.find(stream); it != group.heads.end()) return it->second;
  auto v = Get(heads_, stream);
  if (!v) return v.error();
  if (!*v) return format::Head{};
  auto head = format::DecodeHead(**v);
  if (!head) return StoreError{StoreErrorCode::kCorruption, "bad stream head for " + stream};
  return *head;
}

StoreResult<AppendResult> RocksEventStore::Prepare(const AppendRequest& r, GroupState& group,
                                                   rocksdb::WriteBatch& batch,
                                                   uint64_t& next_position, Hash& tip,
                                                   Timestamp now) {
  if (r.stream.empty() || r.stream.find('\0') != std::string::npos) {
    return StoreError{StoreErrorCode::kInvalidArgument, "stream id must be non-empty text"};
  }
  if (r.events.empty()) return StoreError{StoreErrorCode::kInvalidArgument, "no events to append"};

  // Idempotency first: a retry of an acknowledged request answers as the first time did,
  // whatever the stream looks like now.
  if (!r.idempotency_key.empty()) {
    if (auto it = group.idempotency.find(r.idempotency_key); it != group.idempotency.end()) {
      if (it->second.first != r.request_digest) {
        return StoreError{StoreErrorCode::kIdempotencyKeyReused,
                          "idempotency key was used for another request"};
      }
      AppendResult replay = it->second.second;
      replay.replayed = true;
      return replay;
    }
    auto v = Get(idempotency_, r.idempotency_key);
    if (!v) return v.error();
    if (*v) {
      auto rec = format::DecodeIdempotency(**v);
      if (!rec) return StoreError{StoreErrorCode::kCorruption, "bad idempotency record"};
      if (rec->digest != r.request_digest) {
        return StoreError{StoreErrorCode::kIdempotencyKeyReused,
                          "idempotency key was used for another request"};
      }
      return AppendResult{rec->stream, rec->first_position, rec->last_position, rec->version, true};
    }
  }

  auto head = LoadHead(r.stream, group);
  if (!head) return head.error();
  const ExpectedVersion& ex = r.expected;
  bool ok = ex.kind == ExpectedVersion::Kind::kAny ||
            (ex.kind == ExpectedVersion::Kind::kNoStream && head->version == 0) ||
            (ex.kind == ExpectedVersion::Kind::kExact && head->version == ex.version);
  if (!ok) {
    StoreError e{StoreErrorCode::kWrongExpectedVersion,
                 "stream " + r.stream + " is at version " + std::to_string(head->version)};
    e.current_version = head->version;
    return e;
  }

  // Personal claims are only ever stored as their keyed hash.
  const bool personal = std::any_of(r.events.begin(), r.events.end(),
                                    [](const NewEvent& e) { return !e.personal.empty(); });
  const bool personal_claims =
      std::any_of(r.claims.begin(), r.claims.end(), domain::IsPersonalClaim) ||
      std::any_of(r.released_claims.begin(), r.released_claims.end(), domain::IsPersonalClaim);
  if (!vault_ && (personal || personal_claims || r.erase_personal_data)) {
    return StoreError{StoreErrorCode::kInvalidArgument,
                      "the store was opened without a master key: it cannot record personal data"};
  }
  auto stored_claim = [&](const std::string& claim) { return vault_ ? vault_->BlindClaim(claim) : claim; };
  auto claim_owner = [&](const std::string& stored) -> StoreResult<std::optional<std::string>> {
    if (auto it = group.claims.find(stored); it != group.claims.end()) {
      if (it->second.empty()) return std::optional<std::string>();  // released in this group
      return std::optional<std::string>(it->second);
    }
    return Get(claims_, stored);
  };
  std::vector<std::string> claims, released;
  for (const std::string& claim : r.claims) {
    claims.push_back(stored_claim(claim));
    auto owner = claim_owner(claims.back());
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
    auto owner = claim_owner(stored);
    if (!owner) return owner.error();
    if (*owner && **owner == r.stream) released.push_back(std::move(stored));
  }

  // The stream's data key: the one it has, or a new one written with this append.
  KeyLookup key;
  if (personal) {
    if (auto it = group.keys.find(r.stream); it != group.keys.end()) {
      if (it->second) key = {KeyLookup::State::kKey, *it->second};
      else key.state = KeyLookup::State::kErased;
    } else {
      auto loaded = LoadKey(r.stream);
      if (!loaded) return loaded.error();
      key = *loaded;
    }
    if (key.state == KeyLookup::State::kErased) {
      return StoreError{StoreErrorCode::kInvalidArgument,
                        "the personal data of " + r.stream + " was erased; no more can be recorded"};
    }
  }

  // Checks passed: nothing below can fail, so the group state is only touched now.
  if (personal && key.state == KeyLookup::State::kNone) {
    key = {KeyLookup::State::kKey, PersonalVault::NewDataKey()};
    batch.Put(keys_, r.stream, vault_->Wrap(r.stream, key.key));
    group.keys[r.stream] = key.key;
  }
  AppendResult result{r.stream, next_position, 0, head->version, false};
  for (const NewEvent& ev : r.events) {
    Envelope env;
    env.stream = r.stream;
    env.version = ++result.version;
    env.type = ev.type;
    env.schema_version = ev.schema_version;
    env.recorded_at = now;
    env.effective_at = ev.effective_at;
    env.actor = r.actor;
    env.correlation_id = r.correlation_id;
    env.causation_id = r.causation_id;
    env.idempotency_key = r.idempotency_key;
    env.body = ev.body;
    if (!ev.personal.empty()) env.personal = PersonalVault::Seal(key.key, r.stream, env.version, ev.personal);
    const uint64_t pos = next_position++;
    std::string record = format::EncodeRecordBody(env);
    tip = format::ChainHash(tip, pos, record);
    std::string pos_key = format::PositionKey(pos);
    batch.Put(events_, pos_key, format::EncodeValue(record, tip));
    batch.Put(streams_, format::StreamKey(r.stream, env.version), pos_key);
    result.last_position = pos;
  }
  format::Head new_head{result.version, result.last_position};
  batch.Put(heads_, r.stream, format::EncodeHead(new_head));
  group.heads[r.stream] = new_head;
  sodium_memzero(key.key.data(), key.key.size());
  for (std::string& claim : released) {
    batch.Delete(claims_, claim);
    group.claims[std::move(claim)] = "";
  }
  for (std::string& claim : claims) {
    batch.Put(claims_, claim, r.stream);
    group.claims[std::move(claim)] = r.stream;
  }
  if (r.erase_personal_data) {
    // An empty value is the tombstone: erased, as opposed to never having had a key.
    batch.Put(keys_, r.stream, "");
    group.keys[r.stream] = std::nullopt;
    group.erased.push_back(r.stream);
  }
  if (!r.idempotency_key.empty()) {
    format::IdempotencyRecord rec{r.request_digest, r.stream, result.first_position,
                                  result.last_position, result.version};
    batch.Put(idempotency_, r.idempotency_key, format::EncodeIdempotency(rec));
    group.idempotency[r.idempotency_key] = {r.request_digest, result};
  }
  return result;
}

StoreStats RocksEventStore::Stats() const {
  std::lock_guard l(mu_);
  return stats_;
}

StoreResult<AppendResult> RocksEventStore::Append(const AppendRequest& request) {
  auto result = AppendQueued(request);
  // On the erasing caller's own thread, after its group committed: nobody else waits.
  if (result && !result->replayed && request.erase_personal_data) PurgeErased(request);
  return result;
}

StoreResult<AppendResult> RocksEventStore::AppendQueued(const AppendRequest& request) {
  Writer w(&request);
  std::unique_lock l(mu_);
  writers_.push_back(&w);
  while (!w.done && &w != writers_.front()) w.cv.wait(l);
  if (w.done) return std::move(w.result);

  // This thread leads a group: the writers at the front of the queue, itself first.
  std::vector<Writer*> group(writers_.begin(),
                             writers_.begin() + std::min(writers_.size(), options_.max_group_size));
  std::optional<StoreError> failure = bg_error_;
  l.unlock();

  // Only the leader touches next_position_, tip_hash_ and last_recorded_, and there is
  // one leader at a time, so they are read and written here without the lock.
  uint64_t next = next_position_;
  const uint64_t next_position_before = next_position_;
  Hash tip = tip_hash_;
  Timestamp now = std::max(Now(), last_recorded_);
  rocksdb::WriteBatch batch;
  GroupState state;
  bool any_write = false;
  uint64_t sync_micros = 0;
  if (!failure) {
    for (Writer* gw : group) {
      gw->result = Prepare(*gw->request, state, batch, next, tip, now);
      if (gw->result && !gw->result->replayed) any_write = true;
    }
    if (any_write) {
      rocksdb::WriteOptions wo;
      wo.sync = true;  // acknowledged means durable
      auto sync_start = std::chrono::steady_clock::now();
      rocksdb::Status s = db_->Write(wo, &batch);
      sync_micros = std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::steady_clock::now() - sync_start).count();
      if (!s.ok()) {
        failure = StoreError{s.IsCorruption() ? StoreErrorCode::kCorruption : StoreErrorCode::kIo,
                             "group commit: " + s.ToString()};
        StoreLog()->critical("write failed at position {}: {}; refusing writes", next_position_,
                             s.ToString());
      }
    }
  }

  uint64_t committed = 0;
  std::vector<std::function<void(uint64_t)>> listeners;
  l.lock();
  if (failure) {
    if (!bg_error_) bg_error_ = failure;
    for (Writer* gw : group) gw->result = Refused(*bg_error_);
  } else if (any_write) {
    next_position_ = next;
    tip_hash_ = tip;
    last_recorded_ = now;
    // Before the watermark moves: no reader may open an erased stream's data from a cache.
    for (const std::string& stream : state.erased) vault_->MarkErased(stream);
    committed = next - 1;
    ++stats_.group_commits;
    stats_.sync_micros += sync_micros;
    stats_.events += committed - (next_position_before - 1);
    uint64_t written = 0;
    for (Writer* gw : group) written += (gw->result && !gw->result->replayed) ? 1 : 0;
    stats_.appends += written;
    stats_.max_group_size = std::max<uint64_t>(stats_.max_group_size, written);
    // Published before leadership passes on, so the watermark never goes backwards.
    {
      std::lock_guard tl(tip_mu_);
      tip_ = ChainTip{committed, tip};
    }
    std::lock_guard cl(commit_mu_);
    committed_.store(committed, std::memory_order_release);
    listeners = listeners_;
  }
  for (size_t i = 0; i < group.size(); ++i) writers_.pop_front();
  for (Writer* gw : group) {
    gw->done = true;
    if (gw != &w) gw->cv.notify_one();
  }
  if (!writers_.empty()) writers_.front()->cv.notify_one();
  l.unlock();

  if (committed > 0) {
    commit_cv_.notify_all();
    for (auto& f : listeners) f(committed);
  }
  return std::move(w.result);
}

}  // namespace caseledger::eventstore
