// Reads of the RocksDB event store's log and streams: each record decoded and its link of
// the hash chain checked (FORMAT.md), personal data opened where asked.
#include "eventstore/rocks_event_store.h"

#include "eventstore/rocks_status.h"

#include <algorithm>
#include <cstring>

namespace caseledger::eventstore {

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
      if (!it->status().ok()) return StoreErrorFrom(it->status(), "read hash");
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

StoreResult<void> RocksEventStore::DecodeInto(uint64_t position, std::string_view value,
                                              const Hash& prev, bool open_personal, Envelope& e,
                                              ChainCheck check, EnvelopeFields fields) const {
  const auto fail = [&] {
    return StoreError{StoreErrorCode::kCorruption,
                      "record at position " + std::to_string(position) + " does not decode", 0,
                      position};
  };
  e.position = position;
  if (check == ChainCheck::kTrust) {
    // The body alone: the stored hash (32 bytes at an anchor) is not copied for nothing.
    const auto body = format::RecordBodyOf(value);
    if (!body || !format::DecodeRecordBody(*body, e, fields)) return fail();
    e.prev_hash = Hash{};
    e.hash = Hash{};
  } else {
    const auto split = format::Split(value);
    if (!split || !format::DecodeRecordBody(split->record_body, e, fields)) return fail();
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
  if (auto read =
          ReadLogInto(from_position, max_count, out, ChainCheck::kVerify, EnvelopeFields::kAll);
      !read) {
    return read.error();
  }
  return out;
}

StoreResult<void> RocksEventStore::ReadLogInto(uint64_t from_position, size_t max_count,
                                               std::vector<Envelope>& out, ChainCheck check,
                                               EnvelopeFields fields) const {
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
  Hash prev_hash{};
  if (check == ChainCheck::kVerify) {
    auto prev = HashAt(from_position - 1);
    if (!prev) return prev.error();
    prev_hash = *prev;
  }
  log_reads_.fetch_add(1, std::memory_order_relaxed);
  // The log's tail, just committed, from the records of the last groups (recent_log.h):
  // the same bytes the database holds, decoded by the same code, without an iterator
  // over every level and memtable (the views read every batch this way).
  if (auto runs = recent_log_.Find(from_position, want); !runs.empty()) {
    log_reads_in_memory_.fetch_add(1, std::memory_order_relaxed);
    size_t n = 0;
    for (const auto& run : runs) {
      for (uint64_t pos = std::max(run->first(), from_position); pos < run->end() && n < want; ++pos, ++n) {
        if (n == out.size()) out.emplace_back();
        auto decoded = DecodeInto(pos, run->at(pos), prev_hash, false, out[n], check, fields);
        if (!decoded) return decoded.error();
        prev_hash = out[n].hash;
      }
    }
    out.resize(n);
    return {};
  }
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
    auto decoded = DecodeInto(pos, {it->value().data(), it->value().size()}, prev_hash, false,
                              out[n], check, fields);
    if (!decoded) return decoded.error();
    prev_hash = out[n].hash;
    ++n;
  }
  out.resize(n);
  if (!it->status().ok()) return StoreErrorFrom(it->status(), "read log");
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
  if (!it->status().ok()) return StoreErrorFrom(it->status(), "read stream index");
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
      StoreError e = StoreErrorFrom(statuses[i], "read stream event");
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

}  // namespace caseledger::eventstore
