// A group's batch: the keyed writes its requests left in its state, put in when it is
// written (AddKeyedWrites), and its reuse once answered (Group::Reset). The records and
// their stream index entries go into the batch as they are prepared (group_commit.cc).
#include "eventstore/rocks_event_store.h"

#include <sodium.h>

#include <algorithm>

namespace caseledger::eventstore {

void RocksEventStore::AddKeyedWrites(Group& g) {
  // One write per key even when several requests of the group wrote it: the last is the
  // one the state holds, as a sequence of writes in the batch would leave it. In no order:
  // these families' memtables are hash tables (Open). The stream index entries went into
  // the batch as they were prepared (group_commit.cc): hashed by stream, they need no order
  // either.
  for (const auto& [stream, head] : g.state.heads) g.batch.Put(heads_, stream.id, format::EncodeHead(head));
  for (const auto& [claim, owner] : g.state.claims) {
    if (owner.empty()) {
      g.batch.Delete(claims_, claim);  // released
    } else {
      g.batch.Put(claims_, claim, owner);
    }
  }
  for (const auto& [key, idem] : g.state.idempotency) {
    const AppendResult& result = idem.second;
    format::IdempotencyRecord rec{idem.first, result.stream, result.first_position, result.last_position,
                                  result.version};
    g.batch.Put(idempotency_, key, format::EncodeIdempotency(rec));
  }
}

bool RocksEventStore::Group::Reset() {
  // A group that held a large batch (an import's, a long erasure) gives its memory back.
  constexpr size_t kKeptBatchBytes = 1 << 20;
  constexpr size_t kKeptRequests = 4096;
  if (batch.GetDataSize() > kKeptBatchBytes || pending.capacity() > kKeptRequests ||
      record.capacity() > kKeptBatchBytes || records->capacity() > kKeptBatchBytes) {
    return false;
  }
  batch.Clear();
  records->Clear();
  state.heads.clear();
  state.claims.clear();
  state.idempotency.clear();
  for (auto& [stream, key] : state.keys) {
    if (key) sodium_memzero(key->data(), key->size());
  }
  state.keys.clear();
  pending.clear();
  erasures.clear();
  writes = 0;
  answered = false;
  return true;
}

}  // namespace caseledger::eventstore
