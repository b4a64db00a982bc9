// ReadStreamsSealed (event_store.h): many streams' events as a log consumer reads them.
//
// The streams' positions come from the stream index (one iterator), are sorted, and the
// records are read in that order through one iterator of the events family. A record of
// layout 4 stores only a check of its chain hash, so checking it needs the hash before
// it: the walk starts at the anchor at or before that position (a whole hash; every record
// of layouts 1-2) and goes forward, hashing each record in between. The hash reached is
// kept, so that the next record wanted in the same stretch of 16 continues from it
// instead of starting again.
#include "eventstore/rocks_event_store.h"

#include "eventstore/rocks_status.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace caseledger::eventstore {

StoreResult<void> RocksEventStore::ReadStreamsSealed(const std::vector<std::string>& streams, uint64_t until,
                                                     std::vector<std::vector<Envelope>>& out) const {
  until = std::min(until, CommittedPosition());
  out.assign(streams.size(), {});
  std::vector<std::pair<uint64_t, size_t>> wanted;  // position, index in `streams`
  {
    std::unique_ptr<rocksdb::Iterator> index(db_->NewIterator(rocksdb::ReadOptions(), streams_));
    for (size_t i = 0; i < streams.size(); ++i) {
      const std::string prefix = format::StreamPrefix(streams[i]);
      for (index->Seek(format::StreamKey(streams[i], 1)); index->Valid(); index->Next()) {
        rocksdb::Slice k = index->key();
        if (k.size() != prefix.size() + 8 || std::memcmp(k.data(), prefix.data(), prefix.size()) != 0) break;
        auto ref = format::DecodePositionRef({index->value().data(), index->value().size()});
        if (!ref) return StoreError{StoreErrorCode::kCorruption, "bad stream index entry of " + streams[i]};
        if (*ref > until) break;  // later than asked, or written but not yet acknowledged
        wanted.emplace_back(*ref, i);
      }
      if (!index->status().ok()) return StoreErrorFrom(index->status(), "read stream index");
    }
  }
  std::sort(wanted.begin(), wanted.end());

  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), events_));
  // The record `it` is on, which must be at `position`.
  auto expect = [&](uint64_t position) -> StoreResult<std::string_view> {
    if (!it->Valid() || it->key().size() != 8 || format::DecodeFixed64BE(it->key().data()) != position) {
      if (!it->status().ok()) return StoreErrorFrom(it->status(), "read log");
      return StoreError{StoreErrorCode::kCorruption, "missing position", 0, position};
    }
    return std::string_view(it->value().data(), it->value().size());
  };
  // The chain hash at `at`; `it` is on the record after it.
  uint64_t at = 0;
  Hash hash{};
  bool started = false;
  for (const auto& [position, i] : wanted) {
    const uint64_t anchor = (position - 1) / format::kAnchorEvery * format::kAnchorEvery;
    if (!started || at < anchor || at >= position) {
      started = true;
      if (anchor == 0) {
        at = 0;
        hash = Hash{};
        it->Seek(format::PositionKey(1));
      } else {
        it->Seek(format::PositionKey(anchor));
        auto value = expect(anchor);
        if (!value) return value.error();
        auto split = format::Split(*value);
        if (!split) return StoreError{StoreErrorCode::kCorruption, "short record", 0, anchor};
        if (split->whole) {
          hash = split->hash;
        } else {  // not an anchor after all (a layout this walk does not know): the long way
          auto h = HashAt(anchor);
          if (!h) return h.error();
          hash = *h;
        }
        at = anchor;
        it->Next();
      }
    }
    for (; at + 1 < position; ++at, it->Next()) {
      auto value = expect(at + 1);
      if (!value) return value.error();
      auto split = format::Split(*value);
      if (!split) return StoreError{StoreErrorCode::kCorruption, "short record", 0, at + 1};
      if (split->whole) {
        hash = split->hash;
      } else {
        hash = format::ChainHash(hash, at + 1, split->record_body);
        if (!split->Matches(hash)) {
          return StoreError{StoreErrorCode::kCorruption, "hash chain broken at position " + std::to_string(at + 1), 0,
                            at + 1};
        }
      }
    }
    auto value = expect(position);
    if (!value) return value.error();
    Envelope& e = out[i].emplace_back();
    if (auto decoded = DecodeInto(position, *value, hash, false, e); !decoded) return decoded.error();
    if (e.stream != streams[i]) {
      return StoreError{StoreErrorCode::kCorruption, "stream index points to another stream", 0, position};
    }
    hash = e.hash;
    at = position;
    it->Next();
  }
  return {};
}

}  // namespace caseledger::eventstore
