// `caseledger verify`: the whole hash chain, and the stream index and heads against the
// log. Read-only, so it can run beside a live server.
#include "eventstore/event_store.h"
#include "eventstore/record_format.h"

#include <rocksdb/db.h>

#include <memory>

namespace caseledger::eventstore {
namespace {

struct ReadOnlyDb {
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  ~ReadOnlyDb() {
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  }
};

StoreError Bad(uint64_t position, std::string message) {
  return StoreError{StoreErrorCode::kCorruption, std::move(message), 0, position};
}

}  // namespace

StoreResult<VerifyReport> VerifyStore(const VerifyOptions& options) {
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, {}}, {format::kEvents, {}}, {format::kStreams, {}},
      {format::kHeads, {}}};
  ReadOnlyDb ro;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s =
      rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), options.path, families, &ro.handles, &raw);
  if (!s.ok()) return StoreError{StoreErrorCode::kIo, "open read-only: " + s.ToString()};
  ro.db.reset(raw);
  auto* events = ro.handles[1];
  auto* streams = ro.handles[2];
  auto* heads = ro.handles[3];

  VerifyReport report;
  auto fail = [&](uint64_t pos, std::string why) {
    report.first_bad_position = pos;
    report.problem = std::move(why);
    return report;
  };

  rocksdb::ReadOptions read;
  read.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(ro.db->NewIterator(read, events));
  domain::Hash prev{};
  uint64_t expected = 1;
  std::string index_value;
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++expected) {
    if (it->key().size() != 8) return fail(expected, "malformed event key");
    uint64_t pos = format::DecodeFixed64BE(it->key().data());
    if (pos != expected) return fail(expected, "position " + std::to_string(expected) + " is missing");
    auto split = format::Split({it->value().data(), it->value().size()});
    if (!split) return fail(pos, "record too short");
    const domain::Hash hash = format::ChainHash(prev, pos, split->record_body);
    if (!split->Matches(hash)) return fail(pos, "hash does not match the record and its predecessor");
    domain::Envelope e;
    if (!format::DecodeRecordBody(split->record_body, e)) return fail(pos, "record does not decode");
    s = ro.db->Get(read, streams, format::StreamKey(e.stream, e.version), &index_value);
    if (!s.ok() || format::DecodePositionRef(index_value) != pos) {
      return fail(pos, "stream index entry for " + e.stream + " v" + std::to_string(e.version) +
                           " is missing or points elsewhere");
    }
    prev = hash;
    ++report.events_checked;
    if (options.progress && report.events_checked % options.progress_every == 0) {
      options.progress(pos);
    }
  }
  if (!it->status().ok()) return Bad(expected, "scan: " + it->status().ToString());

  // Every index entry was matched by one event above; an extra entry shows as a count
  // difference.
  std::unique_ptr<rocksdb::Iterator> ix(ro.db->NewIterator(read, streams));
  for (ix->SeekToFirst(); ix->Valid(); ix->Next()) {
    // Version 0 is not an event: the stream's key seed (format 3).
    const rocksdb::Slice k = ix->key();
    if (k.size() >= 9 && k[k.size() - 9] == '\0' && format::DecodeFixed64BE(k.data() + k.size() - 8) == 0) continue;
    ++report.index_entries_checked;
  }
  if (report.index_entries_checked != report.events_checked) {
    return fail(0, "stream index has " + std::to_string(report.index_entries_checked) +
                       " entries for " + std::to_string(report.events_checked) + " events");
  }
  std::unique_ptr<rocksdb::Iterator> hx(ro.db->NewIterator(read, heads));
  for (hx->SeekToFirst(); hx->Valid(); hx->Next()) {
    auto head = format::DecodeHead({hx->value().data(), hx->value().size()});
    std::string stream = hx->key().ToString();
    if (!head) return fail(0, "malformed head of " + stream);
    s = ro.db->Get(read, streams, format::StreamKey(stream, head->version), &index_value);
    if (!s.ok() || format::DecodePositionRef(index_value) != head->last_position) {
      return fail(head->last_position, "head of " + stream + " does not match its index");
    }
  }
  return report;
}

}  // namespace caseledger::eventstore
