// A group's batch: the keyed writes its requests left in its state, put in when it is
// written (AddKeyedWrites; the index's in key order), and its reuse once answered
// (Group::Reset). The records
// themselves go into the batch as they are prepared (group_commit.cc).
#include "eventstore/rocks_event_store.h"

#include <sodium.h>

#include <algorithm>

namespace caseledger::eventstore {

void RocksEventStore::SortedPuts::Add(std::string_view key, std::string_view value) {
  entries_.push_back({static_cast<uint32_t>(bytes_.size()), static_cast<uint32_t>(key.size()),
                      static_cast<uint32_t>(value.size())});
  bytes_.append(key).append(value);
}

void RocksEventStore::SortedPuts::PutInKeyOrder(rocksdb::WriteBatch& batch, rocksdb::ColumnFamilyHandle* family) {
  const char* base = bytes_.data();
  auto key = [base](const Entry& e) { return std::string_view(base + e.at, e.key_size); };
  std::stable_sort(entries_.begin(), entries_.end(), [&](const Entry& a, const Entry& b) { return key(a) < key(b); });
  for (const Entry& e : entries_) {
    batch.Put(family, rocksdb::Slice(base + e.at, e.key_size), rocksdb::Slice(base + e.at + e.key_size, e.value_size));
  }
}

void RocksEventStore::AddKeyedWrites(Group& g) {
  // The index entries in key order: the streams family's memtable (a skip list) inserts them
  // through one shared hint (the insert-hint extractor of Open), so each insert searches the
  // skip list only from where the one before it went, not from the top (these keys are
  // random: stream ids). They are each a key of its own (a stream's versions), or a key seed
  // and its erasure's tombstone, in the order they were prepared. The heads, claims and
  // idempotency records go in as their maps hold them: those families' memtables are hash
  // tables (Open), for which order buys nothing. One write per key even when several
  // requests of the group wrote it: the last is the one the state holds, as a sequence of
  // writes in the batch would leave it.
  g.index.PutInKeyOrder(g.batch, streams_);
  for (const auto& [stream, head] : g.state.heads) g.batch.Put(heads_, stream, format::EncodeHead(head));
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
  if (batch.GetDataSize() > kKeptBatchBytes || index.bytes() > kKeptBatchBytes || pending.capacity() > kKeptRequests ||
      record.capacity() > kKeptBatchBytes || records->capacity() > kKeptBatchBytes) {
    return false;
  }
  batch.Clear();
  index.Clear();
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
