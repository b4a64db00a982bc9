// Point-in-time restore: the log cut after a position (backup.h, TruncateLog). Everything
// the store keeps beside the log is brought back to what it was at the cut, as far as the
// log tells: heads from the stream index, idempotency keys by their positions, claims and
// data keys of streams that no longer exist, consumer checkpoints. One synced WriteBatch: a crash leaves the
// store whole before the cut or after it.
#include "eventstore/backup.h"

#include "eventstore/record_format.h"
#include "eventstore/rocks_status.h"

#include <rocksdb/db.h>

#include <map>
#include <memory>
#include <set>

namespace caseledger::eventstore {
namespace {

}  // namespace

StoreResult<uint64_t> TruncateLog(const std::string& path, uint64_t keep_through) {
  std::vector<std::string> names;
  auto s = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names);
  if (!s.ok()) return StoreErrorFrom(s, "list column families of " + path);
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const std::string& n : names) families.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  s = rocksdb::DB::Open(rocksdb::DBOptions(), path, families, &handles, &raw);
  if (!s.ok()) return StoreErrorFrom(s, "open " + path);
  std::unique_ptr<rocksdb::DB> db(raw);
  std::map<std::string, rocksdb::ColumnFamilyHandle*> cf;
  for (size_t i = 0; i < names.size(); ++i) cf[names[i]] = handles[i];
  auto close = [&] {
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
    db->Close();
  };
  for (const char* need : {format::kEvents, format::kStreams, format::kHeads, format::kIdempotency, format::kClaims,
                           format::kKeys}) {
    if (!cf.count(need)) {
      close();
      return StoreError(StoreErrorCode::kCorruption, path + " has no column family " + need);
    }
  }

  auto result = [&]() -> StoreResult<uint64_t> {
    rocksdb::WriteBatch batch;
    uint64_t removed = 0;
    std::map<std::string, uint64_t> first_cut;  // stream -> lowest version cut
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), cf[format::kEvents]));
    for (it->Seek(format::PositionKey(keep_through + 1)); it->Valid(); it->Next()) {
      const uint64_t pos = format::DecodeFixed64BE(it->key().data());
      auto split = format::Split(it->value().ToStringView());
      domain::Envelope e;
      if (!split || !format::DecodeRecordBody(split->record_body, e)) {
        return StoreError(StoreErrorCode::kCorruption, "record does not decode", 0, pos);
      }
      batch.Delete(cf[format::kEvents], it->key());
      batch.Delete(cf[format::kStreams], format::StreamKey(e.stream, e.version));
      auto [at, fresh] = first_cut.emplace(e.stream, e.version);
      if (!fresh) at->second = std::min(at->second, e.version);
      ++removed;
    }
    if (!it->status().ok()) return StoreErrorFrom(it->status(), "read the log");
    if (removed == 0) return uint64_t{0};

    std::set<std::string> gone;  // streams without events after the cut
    for (const auto& [stream, version] : first_cut) {
      if (version <= 1) {
        batch.Delete(cf[format::kHeads], stream);
        gone.insert(stream);
        continue;
      }
      std::string ref;
      s = db->Get(rocksdb::ReadOptions(), cf[format::kStreams], format::StreamKey(stream, version - 1), &ref);
      auto last = s.ok() ? format::DecodePositionRef(ref) : std::nullopt;
      if (!last) {
        return StoreError(StoreErrorCode::kCorruption, "stream index of " + stream + " lacks version " +
                                                           std::to_string(version - 1));
      }
      batch.Put(cf[format::kHeads], stream, format::EncodeHead({version - 1, *last}));
    }
    // Keys of idempotent requests answered after the cut.
    it.reset(db->NewIterator(rocksdb::ReadOptions(), cf[format::kIdempotency]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      auto rec = format::DecodeIdempotency(it->value().ToStringView());
      if (rec && rec->first_position > keep_through) batch.Delete(cf[format::kIdempotency], it->key());
    }
    if (!it->status().ok()) return StoreErrorFrom(it->status(), "read idempotency keys");
    // Claims and data keys of streams that did not exist yet at the cut. A destroyed key
    // (erasure) of a stream that did exist stays destroyed.
    if (!gone.empty()) {
      it.reset(db->NewIterator(rocksdb::ReadOptions(), cf[format::kClaims]));
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        if (gone.count(it->value().ToString())) batch.Delete(cf[format::kClaims], it->key());
      }
      if (!it->status().ok()) return StoreErrorFrom(it->status(), "read claims");
      for (const std::string& stream : gone) {
        batch.Delete(cf[format::kStreams], format::KeySeedKey(stream));  // format 3
        batch.Delete(cf[format::kKeys], stream);                         // format 2
      }
    }
    // Consumers (the relay) that had gone past the cut start again from it.
    if (cf.count(format::kCheckpoints)) {
      it.reset(db->NewIterator(rocksdb::ReadOptions(), cf[format::kCheckpoints]));
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        if (it->value().size() == 8 && format::DecodeFixed64BE(it->value().data()) > keep_through) {
          batch.Put(cf[format::kCheckpoints], it->key(), format::PositionKey(keep_through));
        }
      }
      if (!it->status().ok()) return StoreErrorFrom(it->status(), "read checkpoints");
    }
    it.reset();
    rocksdb::WriteOptions wo;
    wo.sync = true;
    s = db->Write(wo, &batch);
    if (!s.ok()) return StoreErrorFrom(s, "write the cut");
    return removed;
  }();
  close();
  return result;
}

}  // namespace caseledger::eventstore
