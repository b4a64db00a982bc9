// The store's side of a warm standby (standby.h, docs/standby.md): the role kept in the
// default family, the primary's write-ahead log read for shipping, the standby's checked
// apply of what was shipped, promotion and fencing.
#include "eventstore/rocks_event_store.h"
#include "eventstore/rocks_status.h"
#include "eventstore/standby_seed.h"
#include "eventstore/store_logger.h"

#include <rocksdb/transaction_log.h>
#include <rocksdb/write_batch.h>

#include <unordered_map>

namespace caseledger::eventstore {
namespace {

// Default-family keys of the role (FORMAT.md, "Warm standby"). Never shipped: each store
// keeps its own.
constexpr char kRoleKey[] = "role";                // "standby" or "primary" (after a promotion)
constexpr char kEpochKey[] = "epoch";              // BE64: the epoch this primary writes in
constexpr char kFencedKey[] = "fenced-by";         // BE64: the epoch a standby was promoted at
constexpr char kAppliedKey[] = "standby-applied";  // BE64 sequence ‖ BE64 stream sequence ‖ BE64 epoch
constexpr char kSeedingKey[] = "standby-seeding";  // BE64: the sequence of the seed being applied

bool IsRoleKey(std::string_view key) {
  return key == kRoleKey || key == kEpochKey || key == kFencedKey || key == kAppliedKey || key == kSeedingKey;
}

StoreError Corrupt(std::string message, uint64_t position = 0) {
  return StoreError{StoreErrorCode::kCorruption, std::move(message), 0, position};
}

std::string Be64(uint64_t v) {
  std::string out;
  format::PutFixed64BE(out, v);
  return out;
}

// A WriteBatch representation starts with its sequence (fixed64, little-endian) and count.
constexpr size_t kBatchHeader = 12;
uint64_t BatchSequence(std::string_view rep) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(rep[i]);
  return v;
}

bool IsSeedKey(std::string_view key, std::string* stream) {
  static constexpr char kVersionZero[9] = {0, 0, 0, 0, 0, 0, 0, 0, 0};
  if (key.size() < 10 || key.substr(key.size() - 9) != std::string_view(kVersionZero, 9)) return false;
  *stream = std::string(key.substr(0, key.size() - 9));
  return true;
}

// The highest log position a batch writes (events family puts).
class LastPosition : public rocksdb::WriteBatch::Handler {
 public:
  explicit LastPosition(uint32_t events) : events_(events) {}
  rocksdb::Status PutCF(uint32_t cf, const rocksdb::Slice& key, const rocksdb::Slice&) override {
    if (cf == events_ && key.size() == 8) last = std::max(last, format::DecodeFixed64BE(key.data()));
    return rocksdb::Status::OK();
  }
  rocksdb::Status DeleteCF(uint32_t, const rocksdb::Slice&) override { return rocksdb::Status::OK(); }
  rocksdb::Status SingleDeleteCF(uint32_t, const rocksdb::Slice&) override { return rocksdb::Status::OK(); }
  rocksdb::Status DeleteRangeCF(uint32_t, const rocksdb::Slice&, const rocksdb::Slice&) override {
    return rocksdb::Status::OK();
  }
  uint64_t last = 0;

 private:
  uint32_t events_;
};

}  // namespace

// Copies one shipped batch into the standby's own batch, family by family name, checking
// every log record against the chain as it goes. The first problem stops it (`error`).
class ShippedBatchCopier : public rocksdb::WriteBatch::Handler {
 public:
  struct Target {
    std::unordered_map<uint32_t, rocksdb::ColumnFamilyHandle*> families;  // primary id -> ours
    rocksdb::ColumnFamilyHandle* default_family;
    rocksdb::ColumnFamilyHandle* events;
    rocksdb::ColumnFamilyHandle* streams;
    rocksdb::ColumnFamilyHandle* keys;
    std::string master_key_check;
  };
  ShippedBatchCopier(const Target& t, rocksdb::WriteBatch& out, uint64_t& next_position, Hash& tip,
                     Timestamp& last_recorded)
      : t_(t), out_(out), next_position_(next_position), tip_(tip), last_recorded_(last_recorded) {}

  rocksdb::Status PutCF(uint32_t id, const rocksdb::Slice& k, const rocksdb::Slice& v) override {
    rocksdb::ColumnFamilyHandle* cf = Family(id);
    if (cf == nullptr) return Stop("a write to column family " + std::to_string(id) + ", which the primary did not name");
    const std::string_view key(k.data(), k.size()), value(v.data(), v.size());
    if (cf == t_.default_family) {
      if (IsRoleKey(key)) return rocksdb::Status::OK();  // the primary's own role stays there
      if (key == format::kMasterKeyCheck && value != t_.master_key_check) {
        return Stop("the primary's master key is not this standby's (master-key-check differs): give both the same key");
      }
    } else if (cf == t_.events) {
      if (key.size() != 8) return Stop("a log record with a malformed key");
      const uint64_t position = format::DecodeFixed64BE(key.data());
      if (position != next_position_) {
        return Stop("log record at position " + std::to_string(position) + " where the standby's log continues at " +
                    std::to_string(next_position_) + ": a gap or a fork", position);
      }
      auto split = format::Split(value);
      domain::Envelope e;
      if (!split || !format::DecodeRecordBody(split->record_body, e)) {
        return Stop("log record at position " + std::to_string(position) + " does not decode", position);
      }
      const Hash computed = format::ChainHash(tip_, position, split->record_body);
      if (!split->Matches(computed)) {
        return Stop("hash chain broken at position " + std::to_string(position) +
                        " (the record does not continue the standby's chain)",
                    position);
      }
      tip_ = computed;
      ++next_position_;
      ++events;
      if (last_recorded_ < e.recorded_at) last_recorded_ = e.recorded_at;
    } else if (value.empty()) {
      std::string stream;
      if (cf == t_.keys) erased.emplace_back(key);
      else if (cf == t_.streams && IsSeedKey(key, &stream)) erased.push_back(std::move(stream));
    }
    out_.Put(cf, k, v);
    return rocksdb::Status::OK();
  }
  rocksdb::Status DeleteCF(uint32_t id, const rocksdb::Slice& k) override {
    rocksdb::ColumnFamilyHandle* cf = Removable(id, k);
    if (cf == nullptr) return error ? rocksdb::Status::Aborted() : rocksdb::Status::OK();
    out_.Delete(cf, k);
    return rocksdb::Status::OK();
  }
  rocksdb::Status SingleDeleteCF(uint32_t id, const rocksdb::Slice& k) override {
    rocksdb::ColumnFamilyHandle* cf = Removable(id, k);
    if (cf == nullptr) return error ? rocksdb::Status::Aborted() : rocksdb::Status::OK();
    out_.SingleDelete(cf, k);
    return rocksdb::Status::OK();
  }
  rocksdb::Status DeleteRangeCF(uint32_t id, const rocksdb::Slice& b, const rocksdb::Slice& e) override {
    rocksdb::ColumnFamilyHandle* cf = Family(id);
    if (cf == nullptr || cf == t_.events || cf == t_.default_family) return Stop("a range deletion in the log or the default family");
    out_.DeleteRange(cf, b, e);
    return rocksdb::Status::OK();
  }
  rocksdb::Status MergeCF(uint32_t, const rocksdb::Slice&, const rocksdb::Slice&) override {
    return Stop("a merge operand (the store never writes one)");
  }
  rocksdb::Status PutBlobIndexCF(uint32_t, const rocksdb::Slice&, const rocksdb::Slice&) override {
    return Stop("a blob index (the store never writes one)");
  }
  void LogData(const rocksdb::Slice&) override {}

  std::optional<StoreError> error;
  size_t events = 0;
  std::vector<std::string> erased;  // streams whose key the batch destroys

 private:
  rocksdb::ColumnFamilyHandle* Family(uint32_t id) const {
    auto it = t_.families.find(id);
    return it == t_.families.end() ? nullptr : it->second;
  }
  rocksdb::ColumnFamilyHandle* Removable(uint32_t id, const rocksdb::Slice& k) {
    rocksdb::ColumnFamilyHandle* cf = Family(id);
    if (cf == nullptr) {
      Stop("a deletion in column family " + std::to_string(id) + ", which the primary did not name");
      return nullptr;
    }
    if (cf == t_.events) {
      Stop("a deletion of a log record");
      return nullptr;
    }
    if (cf == t_.default_family && IsRoleKey(std::string_view(k.data(), k.size()))) return nullptr;
    return cf;
  }
  rocksdb::Status Stop(std::string why, uint64_t position = 0) {
    if (!error) error = Corrupt(std::move(why), position);
    return rocksdb::Status::Aborted();
  }

  const Target& t_;
  rocksdb::WriteBatch& out_;
  uint64_t& next_position_;
  Hash& tip_;
  Timestamp& last_recorded_;
};

StoreResult<void> RocksEventStore::LoadRole() {
  rocksdb::ColumnFamilyHandle* def = handles_[0];
  auto role = Get(def, kRoleKey);
  if (!role) return role.error();
  role_.standby = *role && **role == "standby";
  for (auto [key, field] : {std::pair{kEpochKey, &role_.epoch}, std::pair{kFencedKey, &role_.fenced_by},
                            std::pair{kSeedingKey, &seeding_}}) {
    auto v = Get(def, key);
    if (!v) return v.error();
    if (*v && (*v)->size() != 8) return Corrupt(std::string("bad ") + key + " marker");
    if (*v) *field = format::DecodeFixed64BE((*v)->data());
  }
  auto applied = Get(def, kAppliedKey);
  if (!applied) return applied.error();
  if (*applied) {
    if ((*applied)->size() != 24) return Corrupt("bad standby-applied marker");
    role_.applied_sequence = format::DecodeFixed64BE((*applied)->data());
    role_.stream_sequence = format::DecodeFixed64BE((*applied)->data() + 8);
    role_.primary_epoch = format::DecodeFixed64BE((*applied)->data() + 16);
  }
  return {};
}

std::optional<StoreError> RocksEventStore::RoleRefusal() const {
  if (role_.standby) {
    return StoreError{StoreErrorCode::kWritesRefused,
                      "this store is a warm standby: it takes its primary's log only; promote it to write "
                      "(caseledger promote)"};
  }
  if (role_.fenced_by > 0) {
    return StoreError{StoreErrorCode::kWritesRefused,
                      "a standby was promoted over this primary (epoch " + std::to_string(role_.fenced_by) +
                          "): it writes no more, so the log does not fork; the promoted node is the primary now"};
  }
  return std::nullopt;
}

StoreRole RocksEventStore::Role() const {
  std::lock_guard l(write_mu_);
  return role_;
}

StoreResult<void> RocksEventStore::BecomeStandby() {
  std::lock_guard l(write_mu_);
  if (role_.standby) return {};
  if (!vault_) return StoreError{StoreErrorCode::kInvalidArgument, "a standby needs the primary's master key"};
  if (role_.epoch > 0 || role_.fenced_by > 0 || next_position_ > 1 || !ready_.empty() || !in_flight_.empty()) {
    return StoreError{StoreErrorCode::kInvalidArgument,
                      "the store holds a log of its own (position " + std::to_string(next_position_ - 1) +
                          (role_.epoch > 0 ? ", a promoted primary" : "") +
                          "): a standby starts from an empty store"};
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  if (rocksdb::Status s = db_->Put(wo, handles_[0], kRoleKey, "standby"); !s.ok()) return StoreErrorFrom(s, "write role");
  role_.standby = true;
  StoreLog()->info("{} is a warm standby from now on", options_.path);
  return {};
}

StoreResult<StandbyApplied> RocksEventStore::ApplyShipped(const ShippedBatches& shipped, uint64_t stream_sequence) {
  std::unique_lock l(write_mu_);
  if (!role_.standby) return StoreError{StoreErrorCode::kInvalidArgument, "not a standby: nothing shipped is applied"};
  if (bg_error_ && needs_reopen_) {
    return StoreError{StoreErrorCode::kWritesRefused, "refused after a failed write (" + bg_error_->message + "); restart"};
  }
  if (shipped.epoch < role_.primary_epoch) {
    return Corrupt("shipped by a primary of epoch " + std::to_string(shipped.epoch) + " after one of epoch " +
                   std::to_string(role_.primary_epoch));
  }
  ShippedBatchCopier::Target target{{}, handles_[0], events_, streams_, keys_, vault_->CheckValue()};
  for (const auto& [id, name] : shipped.families) {
    for (rocksdb::ColumnFamilyHandle* h : handles_) {
      if (h->GetName() == name) target.families[id] = h;
    }
    if (!target.families.count(id)) return Corrupt("the primary writes a column family this store lacks: " + name);
  }
  // A seed's batches are put-only with sequence 0 (standby_seed.h); WAL batches start at 1.
  const bool seed = !shipped.batches.empty() && shipped.batches[0].size() >= kBatchHeader &&
                    BatchSequence(shipped.batches[0]) == 0;
  if (seed) {
    // A snapshot in parts, into an empty standby (or one that is taking this same seed).
    if (role_.applied_sequence >= shipped.first_sequence) {
      return StandbyApplied{role_.applied_sequence + 1, next_position_ - 1, 0};  // held already
    }
    if (role_.applied_sequence > 0 || (seeding_ == 0 && next_position_ > 1) ||
        (seeding_ != 0 && seeding_ != shipped.first_sequence)) {
      return Corrupt("a seed (snapshot at primary sequence " + std::to_string(shipped.first_sequence) +
                     ") for a standby that holds another log: start the standby from an empty directory");
    }
  }
  rocksdb::WriteBatch out;
  uint64_t next_sequence = role_.applied_sequence + 1;
  uint64_t next_position = next_position_;
  Hash tip = tip_hash_;
  Timestamp last_recorded = last_recorded_;
  size_t events = 0;
  std::vector<std::string> erased;
  for (const std::string& rep : shipped.batches) {
    if (rep.size() < kBatchHeader) return Corrupt("a shipped batch shorter than its header");
    rocksdb::WriteBatch in(rep);
    const uint64_t first = BatchSequence(rep), count = in.Count();
    if (count == 0) return Corrupt("an empty shipped batch");
    if (seed) {
      if (first != 0) return Corrupt("a seed part holding a WAL batch");
      ShippedBatchCopier copier(target, out, next_position, tip, last_recorded);
      rocksdb::Status s = in.Iterate(&copier);
      if (copier.error) return *copier.error;
      if (!s.ok()) return Corrupt("seed batch: " + s.ToString());
      events += copier.events;
      continue;
    }
    if (first + count <= next_sequence) continue;  // held already (a message delivered twice)
    if (first != next_sequence) {
      return Corrupt("shipped batch at primary sequence " + std::to_string(first) + " where the standby expects " +
                     std::to_string(next_sequence) + ": a gap (seed the standby again) or another primary's log");
    }
    ShippedBatchCopier copier(target, out, next_position, tip, last_recorded);
    rocksdb::Status s = in.Iterate(&copier);
    if (copier.error) return *copier.error;
    if (!s.ok()) return Corrupt("shipped batch at sequence " + std::to_string(first) + ": " + s.ToString());
    events += copier.events;
    for (std::string& e : copier.erased) erased.push_back(std::move(e));
    next_sequence = first + count;
  }
  uint64_t seeding = seeding_;
  if (seed) {
    const bool last = shipped.end_sequence == shipped.first_sequence + 1;
    seeding = last ? 0 : shipped.first_sequence;
    next_sequence = last ? shipped.end_sequence : 1;
    if (last) out.Delete(handles_[0], kSeedingKey);
    else out.Put(handles_[0], kSeedingKey, Be64(seeding));
  }
  StandbyApplied applied{next_sequence, next_position - 1, events};
  if (!seed && next_sequence == role_.applied_sequence + 1) return applied;  // nothing new
  out.Put(handles_[0], kAppliedKey, Be64(next_sequence - 1) + Be64(stream_sequence) + Be64(shipped.epoch));
  rocksdb::WriteOptions wo;
  wo.sync = true;
  if (rocksdb::Status s = db_->Write(wo, &out); !s.ok()) {
    // As for a failed group commit: nothing writes to this database again before a reopen.
    StoreError e = StoreErrorFrom(s, "apply shipped batches");
    if (!bg_error_ || !needs_reopen_) bg_error_ = e;
    needs_reopen_ = true;
    StoreLog()->critical("standby: {}; refusing writes", e.message);
    return e;
  }
  claims_written_.fetch_add(1, std::memory_order_release);  // the batches may hold claims
  role_.applied_sequence = next_sequence - 1;
  seeding_ = seeding;
  role_.stream_sequence = stream_sequence;
  role_.primary_epoch = shipped.epoch;
  next_position_ = next_position;
  tip_hash_ = tip;
  last_recorded_ = last_recorded;
  for (const std::string& stream : erased) vault_->MarkErased(stream);
  std::vector<std::function<void(uint64_t)>> listeners;
  const uint64_t committed = next_position - 1;
  if (events > 0) {
    stats_.events += events;
    written_heads_.Clear();  // the shipped batches wrote heads of their own
    heads_written_.fetch_add(1, std::memory_order_release);  // a head read before them is stale
    written_claims_.Clear();  // and claims
    {
      std::lock_guard tl(tip_mu_);
      SetTip(ChainTip{committed, tip});
    }
    std::lock_guard cl(commit_mu_);
    committed_.store(committed, std::memory_order_release);
    listeners = listeners_;
  }
  l.unlock();
  if (events > 0) {
    // The listeners before the waiters, as on a primary (Complete): one woken by the position
    // finds them told of it.
    for (auto& f : listeners) f(committed);
    commit_cv_.notify_all();
  }
  return applied;
}

StoreResult<StoreRole> RocksEventStore::Promote() {
  std::lock_guard l(write_mu_);
  if (!role_.standby) {
    return StoreError{StoreErrorCode::kInvalidArgument,
                      "not a standby" + (role_.epoch > 0 ? " (promoted already, epoch " + std::to_string(role_.epoch) + ")"
                                                         : std::string())};
  }
  if (bg_error_ && needs_reopen_) {
    return StoreError{StoreErrorCode::kWritesRefused, "refused after a failed write (" + bg_error_->message + "); restart"};
  }
  if (seeding_ != 0) {
    return StoreError{StoreErrorCode::kInvalidArgument,
                      "the standby is still taking its seed (a snapshot of the primary): its log is incomplete"};
  }
  // Every shipped record was checked against the chain as it was appended; read the tail
  // back from the files, as Open does, before writing on top of it.
  const uint64_t last = next_position_ - 1;
  if (last > 0) {
    const uint64_t from = last > options_.verify_tail_on_open ? last - options_.verify_tail_on_open + 1 : 1;
    auto tail = ReadLog(from, last - from + 1);
    if (!tail) return tail.error();
    if (tail->size() != last - from + 1 || tail->back().position != last) {
      return Corrupt("the log's tail is incomplete: " + std::to_string(tail->size()) + " records from position " +
                     std::to_string(from));
    }
    if (tail->back().hash != tip_hash_) return Corrupt("the log's tail does not end at the chain tip", last);
  }
  StoreRole promoted = role_;
  promoted.standby = false;
  promoted.epoch = std::max(role_.epoch, role_.primary_epoch) + 1;
  rocksdb::WriteBatch batch;
  batch.Put(handles_[0], kRoleKey, "primary");
  batch.Put(handles_[0], kEpochKey, Be64(promoted.epoch));
  rocksdb::WriteOptions wo;
  wo.sync = true;
  if (rocksdb::Status s = db_->Write(wo, &batch); !s.ok()) return StoreErrorFrom(s, "write role");
  role_ = promoted;
  StoreLog()->info("{} promoted to primary at epoch {}, position {}", options_.path, role_.epoch, last);
  return role_;
}

StoreResult<void> RocksEventStore::Fence(uint64_t epoch) {
  // One fence at a time: a fence that finds itself recorded returns once it is durable.
  std::lock_guard f(fence_mu_);
  uint64_t own_epoch = 0;
  {
    std::lock_guard l(write_mu_);
    if (role_.standby || epoch <= role_.epoch) {
      return StoreError{StoreErrorCode::kInvalidArgument,
                        "a fence at epoch " + std::to_string(epoch) + " does not stop this store (epoch " +
                            std::to_string(role_.epoch) + (role_.standby ? ", a standby" : "") + ")"};
    }
    if (role_.fenced_by >= epoch) return {};
    // Refused from here on, before the marker is durable: refusing early forks nothing. Not
    // under write_mu_ for the put: it waits in RocksDB's queue behind a group's write, whose
    // memtable hook answers the group and so may append (Synced).
    role_.fenced_by = epoch;
    own_epoch = role_.epoch;
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  if (rocksdb::Status s = db_->Put(wo, handles_[0], kFencedKey, Be64(epoch)); !s.ok()) {
    // As for a failed group commit: nothing writes to this database again before a reopen.
    StoreError e = StoreErrorFrom(s, "write fence");
    std::lock_guard l(write_mu_);
    NoteFailure(e, true);
    return e;
  }
  StoreLog()->critical("a standby was promoted at epoch {} over this primary (epoch {}): refusing appends from now on",
                       epoch, own_epoch);
  return {};
}

uint64_t RocksEventStore::LatestSequence() const { return db_->GetLatestSequenceNumber(); }

StoreResult<ShippedBatches> RocksEventStore::ReadWalSince(uint64_t sequence, size_t max_bytes) const {
  ShippedBatches out;
  out.epoch = Role().epoch;
  out.primary_committed = CommittedPosition();  // before the read: the WAL holds at least this
  out.first_sequence = out.end_sequence = sequence;
  for (rocksdb::ColumnFamilyHandle* h : handles_) out.families.emplace_back(h->GetID(), h->GetName());
  if (sequence > db_->GetLatestSequenceNumber()) return out;
  std::unique_ptr<rocksdb::TransactionLogIterator> it;
  rocksdb::Status s = db_->GetUpdatesSince(sequence, &it);
  if (s.IsNotFound()) {
    return StoreError{StoreErrorCode::kNotFound, "the write-ahead log no longer holds sequence " + std::to_string(sequence)};
  }
  if (!s.ok()) return StoreErrorFrom(s, "read the write-ahead log");
  size_t bytes = 0;
  for (; it->Valid() && bytes < max_bytes; it->Next()) {
    rocksdb::BatchResult b = it->GetBatch();
    if (out.batches.empty()) {
      if (b.sequence < sequence) {
        return Corrupt("the write-ahead log batch holding sequence " + std::to_string(sequence) + " starts at " +
                       std::to_string(b.sequence));
      }
      out.first_sequence = b.sequence;  // > sequence: what was asked for is gone (the caller decides)
    } else if (b.sequence != out.end_sequence) {
      break;
    }
    LastPosition last(events_->GetID());
    b.writeBatchPtr->Iterate(&last);
    out.last_position = std::max(out.last_position, last.last);
    out.end_sequence = b.sequence + b.writeBatchPtr->Count();
    bytes += b.writeBatchPtr->GetDataSize();
    out.batches.push_back(b.writeBatchPtr->Data());
  }
  if (out.batches.empty() && !it->status().ok()) return StoreErrorFrom(it->status(), "read the write-ahead log");
  return out;
}

void RocksEventStore::ReleaseWalBefore(uint64_t sequence) {
  rocksdb::VectorLogPtr files;
  if (!db_->GetSortedWalFiles(files).ok()) return;
  for (size_t i = 0; i + 1 < files.size(); ++i) {
    if (files[i]->Type() != rocksdb::kArchivedLogFile || files[i + 1]->StartSequence() > sequence) continue;
    if (rocksdb::Status s = db_->DeleteFile(files[i]->PathName()); !s.ok()) {
      StoreLog()->debug("cannot delete shipped WAL file {}: {}", files[i]->PathName(), s.ToString());
    }
  }
}

namespace {

// Every family of a RocksDB snapshot as put-only write batches: the log first, in
// position order (the standby checks its chain as it goes), then the others, the default
// family last without the role keys.
class RocksSeedReader final : public SeedReader {
 public:
  RocksSeedReader(rocksdb::DB* db, std::vector<rocksdb::ColumnFamilyHandle*> order)
      : db_(db), order_(std::move(order)), snapshot_(db->GetSnapshot()) {
    for (auto* h : order_) families_.emplace_back(h->GetID(), h->GetName());
    Open();
  }
  ~RocksSeedReader() override {
    it_.reset();
    db_->ReleaseSnapshot(snapshot_);
  }
  uint64_t sequence() const override { return snapshot_->GetSequenceNumber(); }
  bool done() const override { return family_ >= order_.size(); }
  StoreResult<ShippedBatches> Next(size_t max_bytes) override {
    ShippedBatches out;
    out.families = families_;
    out.first_sequence = sequence();
    size_t bytes = 0;
    while (!done() && bytes < max_bytes) {
      rocksdb::WriteBatch batch;
      for (; it_->Valid() && bytes + batch.GetDataSize() < max_bytes; it_->Next()) {
        const rocksdb::Slice k = it_->key();
        if (order_[family_]->GetID() == 0 && IsRoleKey(std::string_view(k.data(), k.size()))) continue;
        if (order_[family_]->GetName() == format::kEvents && k.size() == 8) {
          out.last_position = format::DecodeFixed64BE(k.data());
        }
        batch.Put(order_[family_], k, it_->value());
      }
      if (!it_->status().ok()) return StoreErrorFrom(it_->status(), "read the store for a seed");
      if (batch.Count() > 0) {
        bytes += batch.GetDataSize();
        out.batches.push_back(batch.Data());
      }
      if (!it_->Valid()) {
        ++family_;
        Open();
      }
    }
    if (done()) out.end_sequence = sequence() + 1;
    return out;
  }

 private:
  void Open() {
    it_.reset();
    if (done()) return;
    rocksdb::ReadOptions ro;
    ro.snapshot = snapshot_;
    ro.total_order_seek = true;  // the whole family, the stream index's memtable too (memtable_hook.h)
    it_.reset(db_->NewIterator(ro, order_[family_]));
    it_->SeekToFirst();
  }
  rocksdb::DB* db_;
  std::vector<rocksdb::ColumnFamilyHandle*> order_;
  std::vector<std::pair<uint32_t, std::string>> families_;
  const rocksdb::Snapshot* snapshot_;
  size_t family_ = 0;
  std::unique_ptr<rocksdb::Iterator> it_;
};

}  // namespace

StoreResult<std::unique_ptr<SeedReader>> BeginSeed(const EventStore& store) {
  const auto* rocks = dynamic_cast<const RocksEventStore*>(&store);
  if (rocks == nullptr) return StoreError{StoreErrorCode::kInvalidArgument, "only a RocksDB store seeds a standby"};
  return rocks->BeginSeed();
}

StoreResult<std::unique_ptr<SeedReader>> RocksEventStore::BeginSeed() const {
  std::vector<rocksdb::ColumnFamilyHandle*> order = {events_};
  for (auto* h : handles_) {
    if (h != events_ && h != handles_[0]) order.push_back(h);
  }
  order.push_back(handles_[0]);
  return std::unique_ptr<SeedReader>(new RocksSeedReader(db_.get(), std::move(order)));
}

std::optional<std::string> RocksEventStore::ShipMac(std::string_view bytes) const {
  if (!vault_) return std::nullopt;
  return vault_->ShipMac(bytes);
}

}  // namespace caseledger::eventstore
