// The write path: a pipelined group commit (leveldb's DBImpl::Write, with the waiting
// taken out). In the order of the code below:
// 1. AppendAsync, on the appender's thread, under write_mu_: checks the request against
//    the database and against every group not yet in it (newest first: their GroupState),
//    assigns gap-free positions and chain hashes, adds its writes to the forming group
//    (the back of ready_) and returns. No appender waits for any I/O of the commit. Its
//    personal parts are sealed and a new stream's head read before the lock, on guesses
//    that Prepare checks under it (PreSeal, PreLoadHead).
// 2. A commit thread holding the turn takes the oldest formed group and writes its one
//    WriteBatch with sync = true: one WAL write and one fsync, then its memtable inserts,
//    after which RocksDB makes it readable. Meanwhile step 1 forms the next group, so a
//    group is what arrived during one sync (and a short gather, at most a quarter of a
//    sync, for the appenders the last group answered). The writes are pipelined
//    (enable_pipelined_write, two commit threads): when the group's first memtable insert
//    begins, its WAL write and sync have succeeded (memtable_hook.h) and the turn passes,
//    so the other thread's next group is written and synced beside these inserts. No group
//    is handed to RocksDB before the one ahead of it is synced, so they enter its write
//    queue in order and none follows a failed one into the WAL.
// 3. The group is answered once synced, while its inserts run (group_answer.cc): a group of
//    up to kAnswerAtSync requests at that same hook, on the thread that saw the sync and
//    before its inserts (Synced), so its appenders come back for the next group, which the
//    other thread gathers meanwhile, with no thread woken in between; a larger one by the
//    thread that takes the turn (AnswerSynced), beside its inserts, which are then the
//    pipeline's serial step. Not a group holding an erasure (its answer follows the key's
//    purge) nor one behind an unanswered group: those are answered in step 4. The group
//    stays among the unsynced ones step 1 reads until step 4. A callback may append:
//    nothing holds write_mu_ while it waits for a RocksDB write (a fence's put included).
//    A group answered at its hook then holds its inserts back (HoldInserts) until the next
//    group is taken, a read waits for them, or half a write passed (2 ms at most): its
//    appenders' next requests are made meanwhile, and its inserts run during the next
//    group's WAL write and sync instead of taking the cores from them. Not when reads ended
//    a recent hold: appenders that read before appending wait for those inserts anyway.
// 4. Then, in group order (tickets): the group's records go to the recent log
//    (recent_log.h: the log's tail readers decode them from memory), the committed
//    watermark and the tip move, erasures are purged, and the group is answered if step 3
//    did not.
// Invariants: acknowledged means durable (an ack follows the sync of the write that holds
// it). No answer, not even a rejection, precedes the sync of every write it was decided
// on: a group is checked against the unsynced groups before it and answered after them.
// Nothing is readable before its sync: the database only ever receives synced batches
// (never sync = false with a later SyncWAL, never manual_wal_flush: FORMAT.md), unsynced
// writes exist only in the groups' memory, which only step 1 reads, and the log's readers
// stop at the watermark, which moves after the write returned. A read that begins after an
// answer sees what it answered: the store's reads first wait until the watermark passes the
// last answered position (AwaitAnswered; at most the group's inserts, and never on a commit
// thread, which moves it). A failed write or sync is sticky: its group, every group formed
// on top of it and every later write (checkpoints too) are refused, so nothing writes to
// the database again until it is reopened and recovered from the WAL (Debian's RocksDB
// aborts on a write to a file after a failed one). The failure is the store's before the
// turn passes, whatever RocksDB makes of it (it writes on after a Busy one, for instance).
// Below the free-space floor a group is refused the same way before anything is written
// (the floor looked at every 20 ms, or sooner as the groups use the room seen:
// FreeSpaceGate); that refusal lifts by itself: once no group prepared before it is left
// and space is back, positions and the chain continue from the committed tip.
#include "eventstore/rocks_event_store.h"

#include "eventstore/append_checks.h"
#include "eventstore/disk_space.h"
#include "eventstore/memtable_hook.h"
#include "eventstore/rocks_status.h"
#include "eventstore/store_logger.h"

#include "domain/decision.h"

#include <sodium.h>

#include <algorithm>

namespace caseledger::eventstore {
namespace {

// Set on the commit threads: their reads (a callback's, a listener's) do not wait for the
// watermark (AwaitAnswered), which they themselves move.
thread_local bool t_commit_thread = false;

// How often a refusal for lack of space looks at the disk again.
constexpr auto kSpacePoll = std::chrono::milliseconds(200);

StoreError Refused(const StoreError& cause, bool needs_reopen) {
  if (!needs_reopen) return cause;  // below the floor: the message says it lifts by itself
  if (cause.code == StoreErrorCode::kNoSpace) {
    return StoreError{StoreErrorCode::kNoSpace, "store refuses writes since the disk filled (" + cause.message +
                                                    "); free space, then restart to recover from the WAL"};
  }
  return StoreError{StoreErrorCode::kWritesRefused,
                    "store refuses writes after a failed write (" + cause.message +
                        "); restart to recover from the WAL"};
}

}  // namespace

template <class Map, class Key>
const typename Map::mapped_type* RocksEventStore::Unsynced(Map GroupState::*field, const Key& key) const {
  for (auto it = ready_.rbegin(); it != ready_.rend(); ++it) {
    const Map& m = (*it)->state.*field;
    if (auto f = m.find(key); f != m.end()) return &f->second;
  }
  for (auto it = in_flight_.rbegin(); it != in_flight_.rend(); ++it) {
    const Map& m = (*it)->state.*field;
    if (auto f = m.find(key); f != m.end()) return &f->second;
  }
  return nullptr;
}

StoreResult<AppendResult> RocksEventStore::Prepare(const AppendRequest& r, Group& g, PreSealed& pre,
                                                   const PreLoadedHead& pre_head) {
  GroupState& group = g.state;
  rocksdb::WriteBatch& batch = g.batch;
  if (auto bad = CheckStreamName(r.stream)) return *bad;
  if (r.events.empty()) return StoreError{StoreErrorCode::kInvalidArgument, "no events to append"};

  // Idempotency first: a retry of an acknowledged request answers as the first time did,
  // whatever the stream looks like now.
  if (!r.idempotency_key.empty()) {
    if (const auto* earlier = Unsynced(&GroupState::idempotency, r.idempotency_key)) {
      if (earlier->first != r.request_digest) {
        return StoreError{StoreErrorCode::kIdempotencyKeyReused,
                          "idempotency key was used for another request"};
      }
      AppendResult replay = earlier->second;
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

  // Hashed once: looked up in every unsynced group's heads (and keys), then added to this one's.
  const StreamLookup stream(r.stream);
  StoreResult<format::Head> head = format::Head{};
  if (const auto* unsynced = Unsynced(&GroupState::heads, stream)) {
    head = *unsynced;
  } else if (pre_head.ready && pre_head.heads_written == heads_written_.load(std::memory_order_relaxed)) {
    head = pre_head.head;  // no head reached the database since it was read
  } else {
    head = LoadHead(r.stream);
    if (!head) return head.error();
  }
  if (auto wrong = CheckExpectedVersion(r, r.stream, head->version)) return *wrong;
  auto checked = CheckClaims(r, r.stream, vault_.get(), [&](const std::string& stored, const ClaimRead* read)
                                                  -> StoreResult<std::optional<std::string>> {
    if (const auto* unsynced = Unsynced(&GroupState::claims, stored)) {
      if (unsynced->empty()) return std::optional<std::string>();  // released, not yet synced
      return std::optional<std::string>(*unsynced);
    }
    // The caller's read, when no claim reached the database since it began, is what a read
    // now would find (a registration's tax code: one keyed hash and one point read, not two).
    if (read && read->generation == claims_written_.load(std::memory_order_relaxed)) return read->owner;
    return Get(claims_, stored);
  });
  if (!checked) return checked.error();
  const bool personal = checked->personal;
  std::vector<std::string>& claims = checked->taken;
  std::vector<std::string>& released = checked->released;

  // The stream's data key: the one it has, or a new one written with this append.
  KeyLookup data_key;
  if (personal) {
    if (const auto* unsynced = Unsynced(&GroupState::keys, stream)) {
      if (*unsynced) data_key = {KeyLookup::State::kKey, **unsynced};
      else data_key.state = KeyLookup::State::kErased;
    } else if (head->version == 0) {
      // A stream without events has no key (kNone): a key is only ever written with a
      // stream's first events, an erasure's tombstone with an event, and a truncation
      // that removes a stream's events removes its key too. A registration thus skips
      // the two point reads (the seed, then the older keys family) that find nothing.
    } else {
      auto loaded = LoadKey(r.stream);
      if (!loaded) return loaded.error();
      data_key = *loaded;
    }
    if (data_key.state == KeyLookup::State::kErased) {
      return StoreError{StoreErrorCode::kInvalidArgument,
                        "the personal data of " + r.stream + " was erased; no more can be recorded"};
    }
  }

  // The parts sealed before the lock stand if they were sealed for these versions with this
  // key: the stream's, or (it has none) the new key sealed with them, which becomes its key.
  const bool presealed = personal && pre.ready && pre.first_version == head->version + 1 &&
                         (data_key.state == KeyLookup::State::kNone
                              ? pre.fresh.has_value()
                              : !pre.fresh && sodium_memcmp(pre.key.data(), data_key.key.data(),
                                                            data_key.key.size()) == 0);

  // Checks passed: nothing below can fail, so the group state is only touched now.
  if (personal && data_key.state == KeyLookup::State::kNone) {
    PersonalVault::NewKey fresh =
        presealed ? std::move(*pre.fresh) : vault_->NewStreamKey(r.stream);
    data_key = {KeyLookup::State::kKey, fresh.key};
    sodium_memzero(fresh.key.data(), fresh.key.size());
    // Beside the stream's index entries (version 0): its id is shared with them there.
    batch.Put(streams_, format::KeySeedKey(r.stream), fresh.stored);
    group.keys[HashedStream{r.stream, stream.hash}] = data_key.key;
  }
  const Timestamp now = g.recorded_at;
  AppendResult result{r.stream, next_position_, 0, head->version, false};
  // Each record written from the request into the group's scratch buffers (EncodeRecordBody's
  // bytes, as the bulk import writes them): no Envelope to copy the stream, actor and ids
  // into, no allocation per event once a group's buffers have grown. This runs under
  // write_mu_, one request after another.
  std::string& record = g.record;
  std::string& key = g.key;
  size_t sealed_at = 0;  // the next part in pre.bytes
  for (const NewEvent& ev : r.events) {
    const uint64_t version = ++result.version;
    const uint64_t pos = next_position_++;  // decides the record's layout: an anchor or not
    record.clear();
    format::AppendRecordBodyUpToPersonal(
        record, {pos, r.stream, version, ev.type, ev.schema_version, now, ev.effective_at, r.actor.id,
                 r.actor.role, r.correlation_id, r.causation_id, r.idempotency_key, ev.body});
    if (ev.personal.empty()) {
      format::AppendRecordLength(record, 0);
    } else {
      const size_t sealed_size = kSealOverhead + ev.personal.size();
      format::AppendRecordLength(record, sealed_size);
      if (presealed) {
        record.append(pre.bytes, sealed_at, sealed_size);
        sealed_at += sealed_size;
      } else {
        PersonalVault::SealTo(record, data_key.key, r.stream, version, ev.personal);
      }
    }
    tip_hash_ = format::ChainHash(tip_hash_, pos, record);
    format::AppendTrailer(record, tip_hash_);
    key.clear();
    format::PutFixed64BE(key, pos);
    batch.Put(events_, key, record);
    g.records->Append(record);
    key.assign(r.stream).push_back('\0');
    format::PutFixed64BE(key, version);
    batch.Put(streams_, key, format::EncodePositionRef(pos));
    result.last_position = pos;
  }
  // The head, claims and idempotency record go into the batch when the group is written
  // (AddKeyedWrites), once for all its requests: the group holds what they will be.
  const format::Head new_head{result.version, result.last_position};
  if (auto it = group.heads.find(stream); it != group.heads.end()) {
    it->second = new_head;
  } else {
    group.heads.emplace(HashedStream{r.stream, stream.hash}, new_head);
  }
  sodium_memzero(data_key.key.data(), data_key.key.size());
  for (std::string& claim : released) group.claims[std::move(claim)] = "";
  for (std::string& claim : claims) group.claims[std::move(claim)] = r.stream;
  if (r.erase_personal_data) {
    // An empty value is the tombstone: erased, as opposed to never having had a key. Both
    // places, since a stream keyed before format 3 has its key in the keys family.
    batch.Put(streams_, format::KeySeedKey(r.stream), "");
    batch.Put(keys_, r.stream, "");
    group.keys[HashedStream{r.stream, stream.hash}] = std::nullopt;
  }
  if (!r.idempotency_key.empty()) group.idempotency[r.idempotency_key] = {r.request_digest, result};
  return result;
}

void RocksEventStore::AppendAsync(AppendRequest request, AppendCallback done) {
  bool wake = false;
  PreSealed pre;
  PreSeal(request, pre);  // before the lock: the seal needs no order
  PreLoadedHead pre_head;
  PreLoadHead(request, pre_head);  // and a new stream's head no lock
  if (before_write_lock_) before_write_lock_();
  // The request stays here and its strings are freed on return, after the lock, not by a
  // commit thread when it recycles the group: its records and keyed writes are in the group
  // by then, and only an erasure's request is read again (Complete marks and purges its
  // stream's key), so only an erasure's is moved into the group. A request is a dozen strings
  // and vectors: the three moves it took into the group and out again were under write_mu_.
  {
    std::lock_guard l(write_mu_);
    if (ready_.empty() || ready_.back()->pending.size() >= options_.max_group_size ||
        ready_.back()->epoch != write_epoch_) {
      std::unique_ptr<Group> group;
      if (spare_groups_.empty()) {
        group = std::make_unique<Group>();
        group->pending.reserve(std::min<size_t>(options_.max_group_size, 64));
      } else {
        group = std::move(spare_groups_.back());
        spare_groups_.pop_back();
      }
      group->epoch = write_epoch_;
      group->first_position = next_position_;
      group->end_position = next_position_;
      group->records->Start(next_position_);
      group->tip = tip_hash_;
      group->recorded_at = std::max(Now(), last_recorded_);
      last_recorded_ = group->recorded_at;
      ready_.push_back(std::move(group));
    }
    Group& group = *ready_.back();
    Pending p{std::move(done), StoreError{}};
    if (auto refused = RoleRefusal()) {
      p.result = *refused;  // a standby, or a primary fenced by a promoted standby
    } else {
      p.result = bg_error_ ? StoreResult<AppendResult>(Refused(*bg_error_, needs_reopen_))
                           : Prepare(request, group, pre, pre_head);
    }
    if (p.result && !p.result->replayed) {
      ++group.writes;
      if (request.erase_personal_data) group.erasures.push_back(std::move(request));
    }
    group.end_position = next_position_;
    group.tip = tip_hash_;
    group.pending.push_back(std::move(p));
    // Wake the turn holder only when it waits for this: no futex call per append otherwise.
    wake = syncer_waiting_ && (!gathering_ || ready_.front()->pending.size() >= Returning());
  }
  if (wake) sync_cv_.notify_one();
}

size_t RocksEventStore::Returning() const {
  size_t returning = answered_since_take_;
  for (const auto& g : in_flight_) {
    if (g->ticket < groups_taken_ && !g->answered) returning += g->pending.size();
  }
  return returning;
}

void RocksEventStore::Gather(std::unique_lock<std::mutex>& l) {
  // Closed-loop clients (a server's connections, the bench) answered since the last take
  // are usually back within a fraction of a sync: wait a little for as many, rather than
  // sync the first alone and the rest a sync later; bounded, so a lone one is not held
  // back. Not for as many as the last group held: its appenders wait for its inserts, and
  // the whole bound, every group, kept 64 appenders in two groups of ~32 (issue #16).
  gathering_ = true;
  const auto until = std::chrono::steady_clock::now() +
                     std::min<std::chrono::steady_clock::duration>(last_sync_ / 4, std::chrono::milliseconds(2));
  sync_cv_.wait_until(l, until, [&] {
    return stopping_ || (!ready_.empty() && ready_.front()->pending.size() >= Returning());
  });
  gathering_ = false;
}

void RocksEventStore::NoteFailure(const StoreError& failure, bool from_disk, uint64_t ticket) {
  if (!bg_error_ || (from_disk && !needs_reopen_)) bg_error_ = failure;
  if (from_disk && !needs_reopen_) failed_ticket_ = ticket;
  needs_reopen_ = needs_reopen_ || from_disk;
}

void RocksEventStore::SyncLoop() {
  t_commit_thread = true;
  for (;;) {
    {
      // One commit thread at a time takes a group and hands it to RocksDB, so groups enter
      // its write queue in the order they formed.
      std::unique_lock t(turn_mu_);
      turn_cv_.wait(t, [&] { return !turn_taken_; });
      turn_taken_ = true;
    }
    AnswerSynced();
    std::unique_lock l(write_mu_);
    syncer_waiting_ = true;
    bool gathered = false;
    for (;;) {
      if (bg_error_ && !needs_reopen_) {
        sync_cv_.wait_for(l, kSpacePoll, [&] { return stopping_ || !ready_.empty(); });
        if (in_flight_.empty() &&
            std::none_of(ready_.begin(), ready_.end(), [](const auto& g) { return g->writes > 0; })) {
          ResumeAfterNoSpace();
        }
        if (ready_.empty() && !stopping_) continue;
      } else {
        // Gathering from before the first appender is back, so that only the last one wakes
        // this thread; if none came back in time, from the first one's wake, as below.
        if (!stopping_ && ready_.empty() && Returning() > 1) {
          Gather(l);
          gathered = !ready_.empty();
        }
        sync_cv_.wait(l, [&] { return stopping_ || !ready_.empty(); });
      }
      break;
    }
    if (!gathered && !stopping_ && Returning() > 1 && ready_.front()->pending.size() < Returning()) Gather(l);
    syncer_waiting_ = false;
    if (ready_.empty()) {  // stopping, and every group was taken
      l.unlock();
      PassTurn();
      return;
    }
    in_flight_.push_back(std::move(ready_.front()));
    ready_.pop_front();
    // Appenders read the group's state (under write_mu_) while this thread reads its batch.
    Group& group = *in_flight_.back();
    const uint64_t ticket = ++groups_taken_;
    group.ticket = ticket;
    answered_since_take_ = 0;
    std::optional<StoreError> failure = bg_error_;
    l.unlock();
    ReleaseInserts(ticket - 1);  // the group ahead's inserts, held since its answer (Synced)

    uint64_t sync_micros = 0, wal_micros = 0;
    bool from_disk = false;  // the failure came from RocksDB: only a reopen writes again
    bool passed = false;     // the turn, from the memtable hook
    if (!failure && group.writes > 0) {
      AddKeyedWrites(group);
      failure = space_gate_->Check(group.batch.GetDataSize());
      if (failure) StoreLog()->error("refusing writes at position {}: {}", group.first_position, failure->message);
    }
    if (!failure && group.writes > 0) {
      rocksdb::WriteOptions wo;
      wo.sync = true;  // acknowledged means durable; readable only once synced
      // The batch's first memtable insert follows its WAL write and sync: the next group may
      // go to RocksDB then, to be written and synced while this one's inserts run.
      // Its answers need no more than that: they are given there (Synced), and a read waits
      // for the watermark to pass them.
      struct Turn {
        RocksEventStore* store;
        bool* passed;
        Group* group;
        std::chrono::steady_clock::time_point synced;  // the WAL written and synced
        std::chrono::steady_clock::duration held;       // its inserts held back (HoldInserts)
      } turn{this, &passed, &group, {}, {}};
      ArmMemtableInsertHook(
          [](void* arg) {
            auto* t = static_cast<Turn*>(arg);
            t->synced = std::chrono::steady_clock::now();
            *t->passed = true;
            t->held = t->store->Synced(*t->group);
          },
          &turn);
      auto sync_start = std::chrono::steady_clock::now();
      rocksdb::Status s = db_->Write(wo, &group.batch);
      DisarmMemtableInsertHook();
      const auto written = std::chrono::steady_clock::now();
      const auto took = written - sync_start - turn.held;  // the write's, not the hold's
      sync_micros = std::chrono::duration_cast<std::chrono::microseconds>(took).count();
      wal_micros = std::chrono::duration_cast<std::chrono::microseconds>((passed ? turn.synced : written) - sync_start)
                       .count();
      l.lock();
      last_sync_ = took;
      l.unlock();
      hold_bound_ns_.store(std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::min<std::chrono::steady_clock::duration>(took / 2, std::chrono::milliseconds(2)))
                               .count(),
                           std::memory_order_relaxed);
      if (!s.ok()) {
        from_disk = true;
        failure = StoreErrorFrom(s, "group commit");
        StoreLog()->critical("write failed at position {}: {}; refusing writes",
                             group.first_position, s.ToString());
      }
    }
    if (failure) {
      // Before the turn passes: the groups formed on top of this one are refused, none
      // of them written.
      l.lock();
      NoteFailure(*failure, from_disk, ticket);
      l.unlock();
    }
    if (!passed) PassTurn();
    {
      std::unique_lock t(turn_mu_);
      turn_cv_.wait(t, [&] { return groups_completed_ == ticket - 1 && answering_ != ticket; });
      if (to_answer_ == &group) to_answer_ = nullptr;  // not taken up: answered in Complete
    }
    Complete(failure, from_disk, sync_micros, wal_micros);
    {
      std::lock_guard t(turn_mu_);
      groups_completed_ = ticket;
      groups_answered_ = std::max(groups_answered_, ticket);
    }
    turn_cv_.notify_all();
  }
}

void RocksEventStore::Complete(const std::optional<StoreError>& failure, bool from_disk, uint64_t sync_micros,
                               uint64_t wal_micros) {
  uint64_t committed = 0;
  std::vector<std::function<void(uint64_t)>> listeners;
  std::unique_ptr<Group> group;
  {
    std::lock_guard l(write_mu_);
    group = std::move(in_flight_.front());  // its writes are in the database now, or never will be
    in_flight_.pop_front();
    heads_written_.fetch_add(1, std::memory_order_release);  // its heads no longer in an unsynced group
    if (!group->answered) answered_since_take_ += group->pending.size();  // answered below, free to come back
    if (failure) NoteFailure(*failure, from_disk, group->ticket);
    // A group written after an earlier one failed (its memtable inserts, past its sync: the
    // turn had passed) is refused with it; nothing of it is acknowledged. Not one written
    // before a later group's failure: its own write succeeded (answered at its sync, its
    // appender may be behind that later group).
    if (failure || (needs_reopen_ && group->writes > 0 && (failed_ticket_ == 0 || group->ticket > failed_ticket_))) {
      for (Pending& p : group->pending) p.result = Refused(*bg_error_, needs_reopen_);
      group->erasures.clear();
      if (group->answered) {
        // Synced, so durable and answered, but not in the memtable: readable once the store
        // is reopened and recovered from the WAL. Reads stop waiting for it.
        StoreLog()->critical("an answered group's memtable inserts failed at position {}: readable after a reopen",
                             group->first_position);
        std::lock_guard cl(commit_mu_);
        answered_unreadable_.store(true, std::memory_order_release);
        commit_cv_.notify_all();
      }
    } else if (group->writes > 0) {
      // Before the watermark moves: no reader may open an erased stream's data from a cache.
      for (const AppendRequest& erasure : group->erasures) vault_->MarkErased(erasure.stream);
      committed = group->end_position - 1;
      ++stats_.group_commits;
      stats_.sync_micros += sync_micros;
      stats_.wal_sync_micros += wal_micros;
      stats_.max_sync_micros = std::max(stats_.max_sync_micros, sync_micros);
      if (sync_micros > StoreStats::kSlowSyncMicros) ++stats_.slow_syncs;
      stats_.events += group->end_position - group->first_position;
      stats_.appends += group->writes;
      stats_.max_group_size = std::max<uint64_t>(stats_.max_group_size, group->writes);
      // Before the watermark, like the database's own copy (written above).
      for (const auto& [stream, head] : group->state.heads) written_heads_.Put(stream.id, head);
      for (const auto& [claim, owner] : group->state.claims) {
        if (owner.empty()) written_claims_.Erase(claim);  // released
        else written_claims_.Put(claim, owner);
      }
      if (!group->state.claims.empty()) claims_written_.fetch_add(1, std::memory_order_release);
      {
        std::lock_guard tl(tip_mu_);
        SetTip(ChainTip{committed, group->tip});
      }
      // Its records are the log's readers' from memory once the watermark passes them (not
      // before: readers stop there). Added in group order: Complete runs by ticket.
      recent_log_.Add(group->records);
      std::lock_guard cl(commit_mu_);
      committed_.store(committed, std::memory_order_release);
      listeners = listeners_;
    }
  }
  // Before the answer: an acknowledged erasure has its key purged from the files.
  for (const AppendRequest& erasure : group->erasures) PurgeErased(erasure);
  if (committed > 0) {
    // The listeners before the waiters: one woken by the watermark finds them told of it.
    for (auto& f : listeners) f(committed);
    commit_cv_.notify_all();
  }
  if (!group->answered) Answer(*group);
  // Emptied here, outside the lock; kept for a later group (three suffice: one forming, one
  // written, one in its memtable inserts).
  if (group->Reset()) {
    std::lock_guard l(write_mu_);
    if (spare_groups_.size() < 3) spare_groups_.push_back(std::move(group));
  }
}

void RocksEventStore::AwaitAnswered() const {
  const uint64_t answered = answered_position_.load(std::memory_order_acquire);
  if (committed_.load(std::memory_order_acquire) >= answered || t_commit_thread) return;
  ReleaseInsertsForRead(answered);  // a read waits for them: no more reason to hold them back
  std::unique_lock cl(commit_mu_);
  commit_cv_.wait(cl, [&] {
    return committed_.load(std::memory_order_acquire) >= answered ||
           answered_unreadable_.load(std::memory_order_acquire);
  });
}

std::optional<StoreError> RocksEventStore::WriteRefusal() const {
  std::lock_guard l(write_mu_);
  if (bg_error_) return Refused(*bg_error_, needs_reopen_);
  if (role_.fenced_by > 0) return RoleRefusal();  // a standby's refusal is its role, not a fault
  return std::nullopt;
}

void RocksEventStore::ResumeAfterNoSpace() {
  if (BelowFreeSpaceFloor(options_.path, options_.min_free_bytes, "the event store")) return;
  // Every group prepared before the refusal has been answered (refused): nothing past the
  // committed tip was written, so the next append takes the position after it.
  {
    std::lock_guard tl(tip_mu_);
    next_position_ = tip_.position + 1;
    tip_hash_ = tip_.hash;
  }
  bg_error_.reset();
  ++write_epoch_;  // groups formed while refusing take no new appends
  StoreLog()->info("free space is back above the floor: accepting writes at position {}", next_position_);
}

}  // namespace caseledger::eventstore
