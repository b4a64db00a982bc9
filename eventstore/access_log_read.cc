// The access log's read side and pruning: a person's report, the chain's check, the
// retention's pruning (key layout: access_log_impl.h).
#include "eventstore/access_log_impl.h"

#include "eventstore/rocks_status.h"
#include "eventstore/store_logger.h"
#include "eventstore/varint.h"

#include <algorithm>
#include <utility>

namespace caseledger::eventstore {
using namespace access_log_internal;

StoreResult<std::vector<StoredAccessRecord>> AccessLog::ForPerson(const std::string& person_id, uint64_t after,
                                                                  size_t max_count) const {
  std::vector<StoredAccessRecord> out;
  std::string prefix = "p" + person_id;
  prefix.push_back('\0');
  uint64_t limit = impl_->visible_seq;  // never show a record of a write still in flight
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions()));
  std::unique_ptr<rocksdb::Iterator> records(impl_->db->NewIterator(rocksdb::ReadOptions()));
  std::vector<uint64_t> seqs;
  for (it->Seek(IndexKey(person_id, after + 1)); it->Valid() && out.size() < max_count; it->Next()) {
    if (!it->key().starts_with(prefix) || it->key().size() != prefix.size() + 8) break;
    // The entry's own seq, then the earlier ones of the same write (varint deltas, newest
    // first), in sequence order.
    uint64_t seq = format::DecodeFixed64BE(it->key().data() + prefix.size());
    if (seq > limit) break;
    seqs.assign(1, seq);
    for (std::string_view deltas(it->value().data(), it->value().size()); !deltas.empty();) {
      uint64_t d = 0;
      if (!varint::Get(deltas, d) || d == 0 || d >= seqs.back()) {
        return StoreError{StoreErrorCode::kCorruption, "bad access index entry"};
      }
      seqs.push_back(seqs.back() - d);
    }
    // Each record from the "r" entry holding it: the one at or before its seq (one record,
    // or a write's from the entry's key on). An entry's records are split once for all of
    // the person's records in it.
    uint64_t entry_first = 0;
    std::optional<std::vector<std::string_view>> entry;
    for (auto s = seqs.rbegin(); s != seqs.rend() && out.size() < max_count; ++s) {
      if (*s <= after) continue;
      if (!entry || *s >= entry_first + entry->size()) {
        entry.reset();
        records->SeekForPrev(RecordKey(*s));
        if (!records->status().ok()) return StoreErrorFrom(records->status(), "read access record");
        if (!records->Valid() || !records->key().starts_with("r")) continue;  // pruned meanwhile
        if (records->key().size() != 9) return StoreError{StoreErrorCode::kCorruption, "bad access-log record key"};
        entry_first = format::DecodeFixed64BE(records->key().data() + 1);
        auto split = format::Split(records->value().ToStringView());
        if (split) entry = SplitAccessRecords(split->record_body);
        if (!entry) return StoreError{StoreErrorCode::kCorruption, "bad access record", 0, entry_first};
        if (*s >= entry_first + entry->size()) {
          entry.reset();
          continue;  // pruned between the index read and this one
        }
      }
      auto record = DecodeAccessRecord((*entry)[*s - entry_first]);
      if (!record) return StoreError{StoreErrorCode::kCorruption, "bad access record", 0, *s};
      out.push_back({*s, std::move(*record)});
    }
  }
  if (!it->status().ok()) return StoreErrorFrom(it->status(), "read access index");
  return out;
}

StoreResult<AccessLog::ChainReport> AccessLog::VerifyChain() const {
  ChainReport report;
  auto anchor = impl_->Anchor();
  if (!anchor) return anchor.error();
  uint64_t expected = *anchor ? (*anchor)->first + 1 : 1;
  domain::Hash hash = *anchor ? (*anchor)->second : domain::Hash{};
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek("r"); it->Valid() && it->key().starts_with("r"); it->Next()) {
    // An entry holds one record (formats 1, 2) or a write's (3): its key is its first
    // record's seq, its hash chains it to the entry before.
    uint64_t seq = it->key().size() == 9 ? format::DecodeFixed64BE(it->key().data() + 1) : 0;
    auto split = format::Split(it->value().ToStringView());
    const uint64_t records = split ? AccessRecordsIn(split->record_body) : 0;
    if (seq != expected || records == 0 || format::ChainHash(hash, seq, split->record_body) != split->hash) {
      report.first_bad_sequence = expected;
      return report;
    }
    hash = split->hash;
    expected += records;
    report.records += records;
  }
  if (!it->status().ok()) return StoreErrorFrom(it->status(), "verify access log");
  return report;
}

StoreResult<uint64_t> AccessLog::Prune() { return impl_->Prune(); }

StoreResult<uint64_t> AccessLog::Impl::Prune() {
  int64_t cutoff = options.clock().micros - int64_t{options.retention_days} * kMicrosPerDay;
  rocksdb::WriteBatch wb;
  uint64_t pruned = 0, last = 0;
  domain::Hash last_hash{};
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  std::vector<AccessRecord> decoded;
  for (it->Seek("r"); it->Valid() && it->key().starts_with("r") && pruned < 100'000; it->Next()) {
    // An entry goes whole, once every record in it is past the retention (a write's
    // entries span at most kEntrySpanMicros; a record of formats 1 and 2 is its own entry).
    auto split = format::Split(it->value().ToStringView());
    auto records = split && it->key().size() == 9 ? SplitAccessRecords(split->record_body) : std::nullopt;
    if (!records) return StoreError{StoreErrorCode::kCorruption, "bad access record during prune"};
    decoded.clear();
    bool expired = true;
    for (std::string_view bytes : *records) {
      auto record = DecodeAccessRecord(bytes);
      if (!record) return StoreError{StoreErrorCode::kCorruption, "bad access record during prune"};
      expired = expired && record->at.micros < cutoff;
      decoded.push_back(std::move(*record));
    }
    if (!expired) break;
    const uint64_t first = format::DecodeFixed64BE(it->key().data() + 1);
    last = first + decoded.size() - 1;
    last_hash = split->hash;
    wb.Delete(it->key());
    for (size_t i = 0; i < decoded.size(); ++i) wb.Delete(IndexKey(decoded[i].person_id, first + i));
    pruned += decoded.size();
  }
  if (!it->status().ok()) return StoreErrorFrom(it->status(), "prune access log");
  if (pruned == 0) return uint64_t{0};
  std::string anchor;
  format::PutFixed64BE(anchor, last);
  anchor.append(reinterpret_cast<const char*>(last_hash.data()), last_hash.size());
  wb.Put("a", anchor);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  auto s = db->Write(wo, &wb);
  if (!s.ok()) return StoreErrorFrom(s, "prune access log");
  return pruned;
}

}  // namespace caseledger::eventstore
