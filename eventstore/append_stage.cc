// An append's work done on its appender's thread before it takes write_mu_ (group_commit.cc,
// step 1). Between two syncs the returning appenders prepare one after another under that
// lock, and that serial step was ~2 µs an append, 100-150 µs of the ~210 µs from one sync to
// the next group's take at 64 appenders (docs/benchmarks.md, session 27). What is done here
// depends on nothing the groups before it change: the request's own checks, the record bytes
// after the timestamps, the personal parts' sealing (a stream's key and the version are
// fixed by the request when it names the version it appends at), and the reads of the
// database, which Prepare uses only when no group left the unsynced ones since
// (db_generation_) and none of those holds the stream, the key or the idempotency key.
#include "eventstore/rocks_event_store.h"

#include "eventstore/append_checks.h"

#include <sodium.h>

namespace caseledger::eventstore {

void RocksEventStore::StagedAppend::Clear() {
  invalid.reset();
  read = false;
  if (fresh) sodium_memzero(fresh_key.key.data(), fresh_key.key.size());
  fresh = false;
  if (sealed) sodium_memzero(sealed_key.data(), sealed_key.size());
  sealed = false;
  if (key && key->state == KeyLookup::State::kKey) sodium_memzero(key->key.data(), key->key.size());
  key = KeyLookup{};
  key_read = false;
  tails.clear();
  tail_ends.clear();
}

void RocksEventStore::Stage(const AppendRequest& r, StagedAppend& s) const {
  s.Clear();
  if (auto bad = CheckStreamName(r.stream)) {
    s.invalid = *bad;
    return;
  }
  if (r.events.empty()) {
    s.invalid = StoreError{StoreErrorCode::kInvalidArgument, "no events to append"};
    return;
  }
  // Before the reads: a group that completes while they run moves it, and Prepare reads again.
  s.generation = db_generation_.load(std::memory_order_acquire);
  s.read = true;
  if (!r.idempotency_key.empty()) s.idempotency = Get(idempotency_, r.idempotency_key);
  s.head = LoadHead(r.stream);

  // The version the events take if the request is accepted: the one it expects.
  const bool version_known = r.expected.kind != ExpectedVersion::Kind::kAny;
  const uint64_t from = r.expected.kind == ExpectedVersion::Kind::kExact ? r.expected.version : 0;
  const bool personal =
      std::any_of(r.events.begin(), r.events.end(), [](const NewEvent& e) { return !e.personal.empty(); });
  if (personal && vault_ && version_known && !r.erase_personal_data) {
    if (from > 0) {  // a stream without events has no key (Prepare)
      s.key = LoadKey(r.stream);
      s.key_read = true;
    }
    if (s.key && s.key->state == KeyLookup::State::kKey) {
      s.sealed_key = s.key->key;
      s.sealed = true;
    } else if (s.key && s.key->state == KeyLookup::State::kNone) {
      s.fresh_key = vault_->NewStreamKey(r.stream);
      s.fresh = true;
      s.sealed_key = s.fresh_key.key;
      s.sealed = true;
    }
    s.sealed_from = from;
  }

  uint64_t version = s.sealed_from;
  for (const NewEvent& ev : r.events) {
    ++version;
    format::AppendRecordTail(s.tails, {0, {}, 0, {}, 0, {}, {}, r.actor.id, r.actor.role, r.correlation_id,
                                       r.causation_id, r.idempotency_key, ev.body});
    const auto tail_end = static_cast<uint32_t>(s.tails.size());
    if (ev.personal.empty()) {
      format::AppendRecordLength(s.tails, 0);
    } else if (s.sealed) {
      format::AppendRecordLength(s.tails, kSealOverhead + ev.personal.size());
      PersonalVault::SealTo(s.tails, s.sealed_key, r.stream, version, ev.personal);
    }
    s.tail_ends.emplace_back(tail_end, static_cast<uint32_t>(s.tails.size()));
  }
}

}  // namespace caseledger::eventstore
