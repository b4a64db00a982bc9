// Private to eventstore/: the RocksDB implementation of EventStore.
#pragma once

#include "eventstore/event_store.h"
#include "eventstore/personal_vault.h"
#include "eventstore/record_format.h"

#include <rocksdb/db.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <unordered_map>

namespace caseledger::eventstore {

class RocksEventStore final : public EventStore {
 public:
  static StoreResult<std::unique_ptr<EventStore>> Open(const StoreOptions& options);
  ~RocksEventStore() override;

  StoreResult<AppendResult> Append(const AppendRequest& request) override;
  StoreResult<std::vector<Envelope>> ReadStream(const std::string& stream, uint64_t from_version,
                                                size_t max_count) const override;
  StoreResult<std::vector<Envelope>> ReadLog(uint64_t from_position, size_t max_count) const override;
  StoreResult<uint64_t> StreamVersion(const std::string& stream) const override;
  StoreResult<std::optional<std::string>> ClaimOwner(const std::string& claim) const override;
  StoreResult<std::optional<IdempotentAnswer>> FindIdempotencyKey(
      const std::string& key) const override;
  std::string RequestDigest(std::string_view request) const override;
  bool RequestDigestMatches(std::string_view stored, std::string_view request) const override;
  uint64_t CommittedPosition() const override { return committed_.load(std::memory_order_acquire); }
  ChainTip Tip() const override;
  bool WaitForPosition(uint64_t position, std::chrono::milliseconds timeout) const override;
  void AddCommitListener(std::function<void(uint64_t)> listener) override;
  StoreResult<uint64_t> GetCheckpoint(const std::string& consumer) const override;
  StoreResult<void> PutCheckpoint(const std::string& consumer, uint64_t position) override;
  uint64_t DiskBytes() const override;
  StoreStats Stats() const override;
  StoreResult<void> CompactAll() override;

 private:
  // One queued append (leveldb's DBImpl::Writer).
  struct Writer {
    explicit Writer(const AppendRequest* r) : request(r) {}
    const AppendRequest* request;
    StoreResult<AppendResult> result{StoreError{}};
    bool done = false;
    std::condition_variable cv;
  };
  // What the leader knows about state written by earlier requests of its own group.
  struct GroupState {
    std::unordered_map<std::string, format::Head> heads;
    std::unordered_map<std::string, std::string> claims;  // stored claim -> stream ("" released)
    std::unordered_map<std::string, std::pair<std::string, AppendResult>> idempotency;
    std::unordered_map<std::string, std::optional<DataKey>> keys;  // stream -> key (nullopt: erased)
    std::vector<std::string> erased;  // streams whose key this group destroys
  };
  // A stream's personal-data key as stored.
  struct KeyLookup {
    enum class State { kNone, kKey, kErased } state = State::kNone;
    DataKey key{};
  };

  RocksEventStore() = default;
  StoreResult<void> Recover(uint64_t verify_tail);
  // Leader only: checks one request and adds its writes to `batch`.
  StoreResult<AppendResult> AppendQueued(const AppendRequest& request);
  StoreResult<AppendResult> Prepare(const AppendRequest& r, GroupState& group,
                                    rocksdb::WriteBatch& batch, uint64_t& next_position,
                                    Hash& tip, Timestamp now);
  StoreResult<format::Head> LoadHead(const std::string& stream, GroupState& group) const;
  StoreResult<std::optional<std::string>> Get(rocksdb::ColumnFamilyHandle* cf,
                                              const std::string& key) const;
  // `open_personal`: decrypt the personal part (else it is left sealed and emptied).
  StoreResult<Envelope> DecodeAt(uint64_t position, std::string_view value, const Hash& prev,
                                 bool open_personal) const;
  StoreResult<void> OpenPersonal(Envelope& e) const;
  StoreResult<KeyLookup> LoadKey(const std::string& stream) const;
  // After an acknowledged erasure: flushes every family (so no live WAL file holds the
  // key) and compacts the key's and released claims' ranges so their old values leave
  // the SST files.
  void PurgeErased(const AppendRequest& request);
  StoreResult<void> OpenVault(const std::string& master_key_path);
  StoreResult<Hash> HashAt(uint64_t position) const;
  Timestamp Now();

  StoreOptions options_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* events_ = nullptr;
  rocksdb::ColumnFamilyHandle* streams_ = nullptr;
  rocksdb::ColumnFamilyHandle* heads_ = nullptr;
  rocksdb::ColumnFamilyHandle* idempotency_ = nullptr;
  rocksdb::ColumnFamilyHandle* claims_ = nullptr;
  rocksdb::ColumnFamilyHandle* checkpoints_ = nullptr;
  rocksdb::ColumnFamilyHandle* keys_ = nullptr;
  std::unique_ptr<PersonalVault> vault_;  // null: opened without a master key

  // Guards the writer queue, bg_error_ and the leader-owned fields below.
  mutable std::mutex mu_;
  std::deque<Writer*> writers_;
  std::optional<StoreError> bg_error_;  // sticky after a failed write or sync
  uint64_t next_position_ = 1;          // leader only
  Hash tip_hash_{};                     // leader only; hash at committed_
  Timestamp last_recorded_;             // leader only; recorded-at never goes backwards

  mutable std::mutex tip_mu_;
  ChainTip tip_;
  std::atomic<uint64_t> committed_{0};
  mutable std::mutex commit_mu_;
  mutable std::condition_variable commit_cv_;
  std::vector<std::function<void(uint64_t)>> listeners_;  // guarded by commit_mu_
  StoreStats stats_;                                      // guarded by mu_
};

}  // namespace caseledger::eventstore
