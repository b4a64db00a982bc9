// Private to eventstore/: the RocksDB implementation of EventStore.
#pragma once

#include "eventstore/disk_space.h"
#include "eventstore/event_store.h"
#include "eventstore/personal_vault.h"
#include "eventstore/recent_log.h"
#include "eventstore/record_format.h"
#include "eventstore/written_claims.h"
#include "eventstore/written_heads.h"

#include <boost/container_hash/hash.hpp>
#include <boost/unordered/unordered_flat_map.hpp>
#include <rocksdb/db.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace caseledger::eventstore {

// DIR/store/KEEP_SHIPPED_WAL: written by a store opened with wal_archive_seconds (a primary
// shipping to a standby); every later open keeps retired WAL files that long too.
inline constexpr char kKeepWalMarker[] = "KEEP_SHIPPED_WAL";

class SeedReader;  // standby_seed.h

class RocksEventStore final : public EventStore {
 public:
  static StoreResult<std::unique_ptr<EventStore>> Open(const StoreOptions& options);
  ~RocksEventStore() override;

  void AppendAsync(AppendRequest request, AppendCallback done) override;
  StoreResult<std::vector<Envelope>> ReadStream(const std::string& stream, uint64_t from_version,
                                                size_t max_count) const override;
  StoreResult<void> ReadStreamsSealed(const std::vector<std::string>& streams, uint64_t until,
                                      std::vector<std::vector<Envelope>>& out) const override;  // streams_sealed.cc
  StoreResult<std::vector<Envelope>> ReadLog(uint64_t from_position, size_t max_count) const override;
  StoreResult<void> ReadLogInto(uint64_t from_position, size_t max_count,
                                std::vector<Envelope>& out, ChainCheck check,
                                EnvelopeFields fields) const override;
  StoreResult<uint64_t> StreamVersion(const std::string& stream) const override;
  StoreResult<std::optional<std::string>> ClaimOwner(const std::string& claim) const override;
  StoreResult<ClaimRead> ReadClaim(const std::string& claim) const override;
  StoreResult<std::optional<IdempotentAnswer>> FindIdempotencyKey(
      const std::string& key) const override;
  std::string RequestDigest(std::string_view request) const override;
  bool RequestDigestMatches(std::string_view stored, std::string_view request) const override;
  // The reads below see every append answered before they began (AwaitAnswered).
  uint64_t CommittedPosition() const override {
    AwaitAnswered();
    return committed_.load(std::memory_order_acquire);
  }
  ChainTip Tip() const override;
  bool WaitForPosition(uint64_t position, std::chrono::milliseconds timeout) const override;
  void AddCommitListener(std::function<void(uint64_t)> listener) override;
  void AddAnswerHooks(AnswerHooks hooks) override;
  StoreResult<uint64_t> GetCheckpoint(const std::string& consumer) const override;
  StoreResult<void> PutCheckpoint(const std::string& consumer, uint64_t position) override;
  uint64_t DiskBytes() const override;
  StoreStats Stats() const override;
  RocksMemory Memory() const override;
  std::optional<StoreError> WriteRefusal() const override;
  StoreResult<void> CompactAll() override;
  StoreResult<Backup> BackupTo(const std::string& dir) override;
  // standby_store.cc
  StoreRole Role() const override;
  StoreResult<void> BecomeStandby() override;
  StoreResult<StandbyApplied> ApplyShipped(const ShippedBatches& shipped, uint64_t stream_sequence) override;
  StoreResult<StoreRole> Promote() override;
  StoreResult<void> Fence(uint64_t epoch) override;
  uint64_t LatestSequence() const override;
  StoreResult<ShippedBatches> ReadWalSince(uint64_t sequence, size_t max_bytes) const override;
  void ReleaseWalBefore(uint64_t sequence) override;
  std::optional<std::string> ShipMac(std::string_view bytes) const override;
  // standby_seed.h: a snapshot of every family for seeding a standby.
  StoreResult<std::unique_ptr<SeedReader>> BeginSeed() const;
  // Tests only (head_reads_test.cc): `hook` runs in every AppendAsync on the appender's
  // thread after the request's reads before the write lock (PreSeal, PreLoadHead), no lock
  // held; it may append. Set before any append; empty: none.
  void SetBeforeWriteLockForTest(std::function<void()> hook) { before_write_lock_ = std::move(hook); }

 private:
  friend class BulkImport;  // bulk_import.cc: writes the same records, ingested in one step

  // A stream id and its hash, the key of the groups' maps by stream: Prepare hashes a
  // request's stream once (StreamLookup) for its look-ups in every unsynced group and its
  // insert into its own, and a table that grows rehashes nothing.
  struct HashedStream {
    std::string id;
    size_t hash = 0;
  };
  struct StreamLookup {
    std::string_view id;
    size_t hash = 0;
    explicit StreamLookup(std::string_view stream)
        : id(stream), hash(boost::hash<std::string_view>{}(stream)) {}
  };
  struct StreamHash {
    using is_transparent = void;
    using is_avalanching = void;  // boost::hash of a string is (hash_is_avalanching)
    size_t operator()(const HashedStream& s) const { return s.hash; }
    size_t operator()(const StreamLookup& s) const { return s.hash; }
  };
  struct StreamEq {
    using is_transparent = void;
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
      return a.hash == b.hash && std::string_view(a.id) == std::string_view(b.id);
    }
  };
  template <class V>
  using StreamMap = boost::unordered_flat_map<HashedStream, V, StreamHash, StreamEq>;
  // What a group has written so far, as later requests (of this group or of groups
  // formed while it is being written) must see it before it is in the database.
  // Flat maps: a recycled group keeps their tables (Group below).
  struct GroupState {
    StreamMap<format::Head> heads;
    boost::unordered_flat_map<std::string, std::string> claims;  // stored claim -> stream ("" released)
    boost::unordered_flat_map<std::string, std::pair<std::string, AppendResult>> idempotency;
    StreamMap<std::optional<DataKey>> keys;  // stream -> key (nullopt: erased)
  };
  // One append waiting for its group's sync (its request stays with the caller: AppendAsync).
  struct Pending {
    AppendCallback done;
    StoreResult<AppendResult> result{StoreError{}};
  };
  // Requests prepared into one WriteBatch, written with one WAL sync (group_commit.cc).
  // Recycled once answered (spare_groups_): its batch, maps and pending list keep their
  // memory, so a group in the steady state allocates nothing of its own.
  struct Group {
    rocksdb::WriteBatch batch;
    GroupState state;
    // Prepare's scratch for one record and one key (their bytes are copied into the
    // batch): reused, so an event allocates nothing of its own.
    std::string record, key;
    // Its records as written to the events family, from first_position on: handed to the
    // recent log (recent_log.h) once synced, for the log's readers.
    std::shared_ptr<RecordRun> records = std::make_shared<RecordRun>();
    std::vector<Pending> pending;
    std::vector<AppendRequest> erasures;  // the requests of its erasures (not refused, not replays)
    uint64_t first_position = 0;  // next_position_ when the group opened
    uint64_t end_position = 0;    // next_position_ after its last request
    Hash tip{};                   // chain hash at end_position - 1
    Timestamp recorded_at;
    size_t writes = 0;            // requests that write (not replays, not rejected)
    uint64_t epoch = 0;           // write_epoch_ when it formed
    uint64_t ticket = 0;          // its place in the order groups go to RocksDB (once taken)
    bool answered = false;        // answered once synced, before its inserts (under write_mu_)
    // Empties it for reuse; false when it grew too large to be worth keeping.
    bool Reset();
  };
  // A stream's personal-data key as stored.
  struct KeyLookup {
    enum class State { kNone, kKey, kErased } state = State::kNone;
    DataKey key{};
  };

  // A request's personal parts sealed before write_mu_ (PreSeal) for the versions and key
  // its expected version implies; Prepare uses them only if the stream is found so.
  struct PreSealed {
    bool ready = false;
    uint64_t first_version = 0;  // the version its first event was sealed for
    DataKey key{};               // the key they were sealed with: the stream's, or `fresh`'s
    std::optional<PersonalVault::NewKey> fresh;  // a new key, for a stream that has none
    std::string bytes;  // each personal part sealed (kSealOverhead + its size), in order
    PreSealed() = default;
    PreSealed(const PreSealed&) = delete;
    PreSealed& operator=(const PreSealed&) = delete;
    ~PreSealed();  // zeroes the keys
  };

  RocksEventStore() = default;
  StoreResult<void> Recover(uint64_t verify_tail);
  // On the appender's thread, no lock held (personal_store.cc): seals `r`'s personal parts
  // for the versions r.expected names (kExact, kNoStream), with the stream's key as a read
  // finds it now or a new key if it has none. Not ready (nothing sealed) for kAny, a store
  // without a vault, a request without personal data, or an erased stream: Prepare seals.
  // Sealing is the only part of Prepare that needs neither the store's order nor its head
  // beyond a guess, and ~a quarter of its time outside the chain hash (issue #16).
  void PreSeal(const AppendRequest& r, PreSealed& out) const;
  // A request's head as read before write_mu_ (PreLoadHead), and heads_written_ when the
  // read began.
  struct PreLoadedHead {
    bool ready = false;
    format::Head head;
    uint64_t heads_written = 0;
  };
  // On the appender's thread, no lock held (head_reads.cc): for a request that takes its
  // stream to be new (kNoStream, kExact(0)), the stream's head as LoadHead finds it now: a
  // RocksDB point read, which finds nothing unless the request is refused, and which took
  // write_mu_ from the other appenders for a registration's every append (issue #16). Not
  // ready otherwise (a stream with events is found in the unsynced groups or the cache).
  void PreLoadHead(const AppendRequest& r, PreLoadedHead& out) const;
  // REQUIRES: write_mu_ held. Checks one request against the store and the groups not
  // yet in it, and adds its writes to `group`. `pre`: its parts sealed before the lock,
  // used when their versions and key are the ones found here, else sealed again.
  // `pre_head`: its head read before the lock, used when no unsynced group holds the stream
  // and heads_written_ has not moved since that read began, else read again.
  StoreResult<AppendResult> Prepare(const AppendRequest& r, Group& group, PreSealed& pre,
                                    const PreLoadedHead& pre_head);
  // On a commit thread, before the group's write: its heads, claims and idempotency
  // records (from its state) into its batch; the index entries in key order.
  void AddKeyedWrites(Group& group);
  // A commit thread (two run it): holding the turn, takes the oldest formed group and
  // writes it; passes the turn on once the write reached the memtable (its WAL write and
  // sync succeeded) or returned; then completes the group, in group order.
  void SyncLoop();
  // group_answer.cc. Lets the other commit thread take the next group (locks turn_mu_
  // only); `synced`: a group for it to answer first (AnswerSynced).
  void PassTurn(Group* synced = nullptr);
  // From the memtable hook, inside RocksDB's write of `group`, its WAL write and sync done:
  // passes the turn, and when every group before it is answered and it holds no erasure
  // (else Complete answers it), answers the group there, before its inserts, or leaves a
  // large one to the next holder of the turn. REQUIRES: no thread holds write_mu_ while it
  // waits for a RocksDB write (callbacks may append).
  // Returns how long it held the group's inserts back (HoldInserts).
  std::chrono::steady_clock::duration Synced(Group& group);
  // From Synced, on the thread that answered `group` at its sync, before its inserts: waits
  // until the next group is taken (its appenders came back and are gathered), a read waits
  // for this group's inserts (AwaitAnswered), or at most `bound`. Returns how long it waited.
  // The inserts then run beside the next group's WAL write and sync, not beside the clients
  // that make its requests (issue #16). Not after a read ended a hold, for the next 15 groups
  // (their appenders read before they append: the reads wait for the inserts anyway).
  // REQUIRES: no lock held (it is inside RocksDB's write).
  std::chrono::steady_clock::duration HoldInserts(const Group& group, std::chrono::steady_clock::duration bound);
  // Ends the holds of groups up to `ticket` (the next group was taken).
  void ReleaseInserts(uint64_t ticket);
  // Ends (or spares) the hold of a group whose positions a read waits for, up to `answered`.
  void ReleaseInsertsForRead(uint64_t answered) const;
  // On taking the turn: answers the group Synced left, if any, beside its inserts.
  void AnswerSynced();
  // Marks a synced group answered (its appenders counted as coming back: Returning).
  void MarkAnswered(Group& group);
  // Calls the answer hooks and every request's callback.
  void Answer(Group& group);
  // Waits until every answered append is readable (the watermark passed it), so that a
  // read made after an answer sees what it answered. Fast path: two atomic loads.
  void AwaitAnswered() const;
  // REQUIRES: write_mu_ held. How many appenders the forming group may still expect, as
  // closed-loop clients come back once answered: those answered since the last group was
  // taken, and those of the groups taken before it and not yet answered. Not the last
  // group's own: they are answered after its memtable inserts, while the group forming now
  // is written (the pipeline), so waiting for them would hold every group a cycle.
  size_t Returning() const;
  // REQUIRES: `l` holds write_mu_, on the turn's holder. Waits, at most a quarter of the
  // last write, until the forming group holds as many requests as Returning() counts.
  void Gather(std::unique_lock<std::mutex>& l);
  // REQUIRES: write_mu_ held. Makes a failed group's failure the store's (bg_error_),
  // before the next group is taken. `ticket`: the failed group's (0: not a group's write).
  void NoteFailure(const StoreError& failure, bool from_disk, uint64_t ticket = 0);
  // Answers the oldest group in flight (written, or failed with `failure`) and removes it.
  // `from_disk`: the failure came from RocksDB (sticky until a reopen).
  // `sync_micros`: the group's synced write, its memtable inserts included; `wal_micros`: its
  // WAL write and sync alone (to the first insert).
  void Complete(const std::optional<StoreError>& failure, bool from_disk, uint64_t sync_micros, uint64_t wal_micros);
  // REQUIRES: write_mu_ held. A value written by a group not yet in the database, newest
  // group first; null when none holds `key` (a std::string, or a StreamLookup for the maps
  // by stream).
  template <class Map, class Key>
  const typename Map::mapped_type* Unsynced(Map GroupState::*field, const Key& key) const;
  StoreResult<format::Head> LoadHead(const std::string& stream) const;
  StoreResult<std::optional<std::string>> Get(rocksdb::ColumnFamilyHandle* cf,
                                              const std::string& key) const;
  // `open_personal`: decrypt the personal part (else it is left sealed and emptied).
  StoreResult<Envelope> DecodeAt(uint64_t position, std::string_view value, const Hash& prev,
                                 bool open_personal) const;
  // DecodeAt into `e`, reusing its strings' capacity (every field is set, those `fields`
  // leaves out to empty). With ChainCheck::kTrust `prev` is not used and the hashes are
  // left zero.
  StoreResult<void> DecodeInto(uint64_t position, std::string_view value, const Hash& prev,
                               bool open_personal, Envelope& e,
                               ChainCheck check = ChainCheck::kVerify,
                               EnvelopeFields fields = EnvelopeFields::kAll) const;
  StoreResult<void> OpenPersonal(Envelope& e) const;
  StoreResult<KeyLookup> LoadKey(const std::string& stream) const;
  // After an acknowledged erasure: flushes every family (so no live WAL file holds the
  // key) and compacts the key's and released claims' ranges so their old values leave
  // the SST files.
  void PurgeErased(const AppendRequest& request);
  // REQUIRES: write_mu_ held, holding the turn, no group in flight or with writes left. After a
  // refusal for lack of space (nothing was written): once space is back above the floor,
  // positions and the chain continue from the committed tip and appends are accepted.
  void ResumeAfterNoSpace();
  StoreResult<void> OpenVault(const std::string& master_key_path);
  StoreResult<Hash> HashAt(uint64_t position) const;
  // REQUIRES: tip_mu_ held. Sets tip_ and remembers it among the recent tips (HashAt).
  void SetTip(const ChainTip& tip);
  // standby_store.cc: reads the role markers of the default family into role_ (Open).
  StoreResult<void> LoadRole();
  // REQUIRES: write_mu_ held. Why appends are refused for the store's role, if they are.
  std::optional<StoreError> RoleRefusal() const;
  Timestamp Now();

  StoreOptions options_;
  std::shared_ptr<rocksdb::Cache> block_cache_;  // every family's (StoreOptions::block_cache_bytes)
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

  // Guards the groups, bg_error_ and the write-path fields below. Held while a request
  // is prepared (never during I/O of the group commit itself). Never held while waiting
  // for a RocksDB write that a group might be ahead of: the memtable hook takes it inside
  // a group's write (Synced). A put under it is only one made when no group can write
  // (a standby's, an empty store's, an import's ingestion with no group left).
  mutable std::mutex write_mu_;
  std::condition_variable sync_cv_;                // wakes the commit thread holding the turn
  std::deque<std::unique_ptr<Group>> ready_;       // formed, waiting for the sync; back is open
  // Taken by a commit thread, not yet completed, oldest first (at most two: one in its
  // memtable inserts or completion while the next is written and synced).
  std::deque<std::unique_ptr<Group>> in_flight_;
  uint64_t groups_taken_ = 0;                      // tickets: groups go to RocksDB in this order
  size_t answered_since_take_ = 0;                 // requests answered since the last group was taken
  std::chrono::steady_clock::duration last_sync_{};  // the last write's duration (not its hold)
  // A group's inserts held back after its answer at its sync (HoldInserts), a leaf lock.
  mutable std::mutex hold_mu_;
  mutable std::condition_variable hold_cv_;
  uint64_t held_ = 0;           // guarded by hold_mu_: the ticket whose inserts wait (0: none)
  uint64_t held_last_ = 0;      // guarded by hold_mu_: that group's last position
  uint64_t released_ = 0;       // guarded by hold_mu_: holds of tickets up to this one end at once
  // Guarded by hold_mu_: the last answered position a read waited for; a group up to it is
  // not held (the read may have begun between its answers and its hold).
  mutable uint64_t read_waits_for_ = 0;
  uint32_t skip_holds_ = 0;     // guarded by hold_mu_: groups left not to hold, reads having come
  // Bounds a hold: half the last write, at most 2 ms (set with last_sync_, read by the hook).
  std::atomic<int64_t> hold_bound_ns_{0};
  // The turn to take and write the next group, and the order of completions: a leaf lock
  // (nothing is locked while it is held), taken from inside RocksDB's write too
  // (memtable_hook.h).
  std::mutex turn_mu_;
  std::condition_variable turn_cv_;                // the turn passed, or a group was completed
  bool turn_taken_ = false;                        // guarded by turn_mu_
  uint64_t groups_completed_ = 0;                  // guarded by turn_mu_
  uint64_t groups_answered_ = 0;                   // guarded by turn_mu_: answered up to this ticket
  Group* to_answer_ = nullptr;                     // guarded by turn_mu_: synced, for AnswerSynced
  uint64_t answering_ = 0;                         // guarded by turn_mu_: the ticket AnswerSynced answers
  std::vector<std::unique_ptr<Group>> spare_groups_;  // answered, emptied, for the next groups
  std::optional<StoreError> bg_error_;             // why writes are refused (see group_commit.cc)
  bool needs_reopen_ = false;                      // bg_error_ came from RocksDB: sticky
  uint64_t failed_ticket_ = 0;                     // the group whose failure set needs_reopen_ (0: none)
  uint64_t write_epoch_ = 0;                       // moves when writes resume
  StoreRole role_;                                 // standby / epoch / fence (standby_store.cc)
  std::mutex fence_mu_;                            // one Fence at a time (taken before write_mu_)
  uint64_t seeding_ = 0;                           // a standby taking a seed at this sequence
  bool stopping_ = false;
  bool syncer_waiting_ = false;                    // the turn's holder waits on sync_cv_
  bool gathering_ = false;                         // ...for the appenders Returning() counts
  // Moves, under write_mu_, whenever heads may have reached the database beyond what the
  // unsynced groups show: a group leaves in_flight_ (Complete; its write returned before),
  // an import's files are ingested, a standby's shipped batches are applied. A head read
  // from the database while it did not move is the database's head at the lock, unless an
  // unsynced group holds a newer one (PreLoadHead).
  std::atomic<uint64_t> heads_written_{0};
  uint64_t next_position_ = 1;                     // the next position to prepare
  Hash tip_hash_{};                                // hash at next_position_ - 1
  Timestamp last_recorded_;                        // recorded-at never goes backwards
  std::unique_ptr<FreeSpaceGate> space_gate_;      // the turn holder's look at the floor
  StoreStats stats_;
  std::array<std::thread, 2> syncers_;             // run SyncLoop

  mutable std::mutex tip_mu_;
  ChainTip tip_;
  // The last tips (a group's end each), guarded by tip_mu_: a reader of the log from just
  // after a group (the views, every batch) gets the hash before its first record without
  // walking back to an anchor. A position's hash never changes once committed.
  std::array<ChainTip, 64> recent_tips_{};
  size_t next_recent_tip_ = 0;
  // Heads the group commit wrote or a read found (written_heads.h): filled by const reads.
  mutable WrittenHeads written_heads_;
  // Owners of claims that are not personal, as written or found (written_claims.h).
  mutable WrittenClaims written_claims_;
  // Moves after every write of claims to the database (a group that took or released any:
  // when it is answered and when it is written; shipped batches, an import), under
  // write_mu_: a ClaimRead taken at the current value
  // still tells the database's answer to Prepare (which checks the unsynced groups first).
  // Starts at 1: a read's 0 means "nothing to trust".
  std::atomic<uint64_t> claims_written_{1};
  std::atomic<uint64_t> committed_{0};
  // The last position answered (Synced or AnswerSynced: before the group's inserts end), and whether a
  // group answered so failed its inserts (readable only after a reopen): AwaitAnswered.
  std::atomic<uint64_t> answered_position_{0};
  std::atomic<bool> answered_unreadable_{false};
  // The last groups' records (recent_log.h): added by Complete, in group order, before
  // committed_ moves past them, read by ReadLogInto. ~10 ms of the views' batch under the
  // commands' load is ~0.2 MiB of records.
  static constexpr size_t kRecentLogBytes = 4 << 20;
  RecentLog recent_log_{kRecentLogBytes};
  mutable std::atomic<uint64_t> log_reads_{0};            // ReadLogInto calls that read records
  mutable std::atomic<uint64_t> log_reads_in_memory_{0};  // ...served by recent_log_
  mutable std::mutex commit_mu_;
  mutable std::condition_variable commit_cv_;
  std::vector<std::function<void(uint64_t)>> listeners_;  // guarded by commit_mu_
  // Guarded by commit_mu_; replaced, never changed, when a hook is added: each group's
  // answers take a reference, not a copy of the functions (an allocation per group).
  std::shared_ptr<const std::vector<AnswerHooks>> answer_hooks_ = std::make_shared<std::vector<AnswerHooks>>();
  std::function<void()> before_write_lock_;  // tests only (SetBeforeWriteLockForTest)
};

}  // namespace caseledger::eventstore
