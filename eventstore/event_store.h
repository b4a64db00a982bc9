// The event log: an append-only, hash-chained sequence of envelopes in RocksDB, with
// per-stream indexes, optimistic concurrency, idempotency keys, unique claims and group
// commit. See eventstore/FORMAT.md for the key layout and record encoding.
//
// Thread safety: every method may be called from any thread concurrently.
#pragma once

#include "domain/envelope.h"
#include "domain/time.h"
#include "eventstore/log_reader.h"

#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rocksdb {
class Env;
}

namespace caseledger::eventstore {

using domain::Envelope;
using domain::Hash;
using domain::Timestamp;

enum class StoreErrorCode {
  kWrongExpectedVersion,  // optimistic concurrency: the stream is at another version
  kIdempotencyKeyReused,  // same key, different request
  kClaimTaken,            // a unique key is held by another stream
  kInvalidArgument,       // empty stream id, no events, oversized request
  kWritesRefused,         // a previous write or sync failed; reopen the store
  kIo,                    // RocksDB reported an I/O error
  kNoSpace,               // the volume is full, or below StoreOptions::min_free_bytes
  kCorruption,            // stored bytes do not decode or the hash chain is broken
  kNotFound,
};

struct StoreError {
  StoreError() = default;
  StoreError(StoreErrorCode c, std::string m, uint64_t current = 0, uint64_t pos = 0)
      : code(c), message(std::move(m)), current_version(current), position(pos) {}

  StoreErrorCode code = StoreErrorCode::kIo;
  std::string message;
  uint64_t current_version = 0;  // for kWrongExpectedVersion
  uint64_t position = 0;         // for kCorruption: first bad position
  std::string claim;             // for kClaimTaken
  std::string claim_owner;       // stream holding it
};

[[noreturn]] void throw_exception_from_error(const StoreError& e, const boost::source_location& loc);

// StoreResult<T> = boost::system::result<T, StoreError> (declared in log_reader.h).

// What the stream must look like for an append to go ahead.
struct ExpectedVersion {
  enum class Kind { kAny, kNoStream, kExact };
  Kind kind = Kind::kAny;
  uint64_t version = 0;

  static ExpectedVersion Any() { return {Kind::kAny, 0}; }
  static ExpectedVersion NoStream() { return {Kind::kNoStream, 0}; }
  static ExpectedVersion Exactly(uint64_t v) { return {Kind::kExact, v}; }
};

// One event to append; its position, version, hashes and recorded-at are set by the store.
struct NewEvent {
  std::string type;
  uint32_t schema_version = 1;
  std::string body;
  std::string personal;
  Timestamp effective_at;
};

// A claim's owner as one read found it (EventStore::ReadClaim), handed back with an append
// that takes the claim (AppendRequest::claim_reads): the store checks the claim again in its
// write order, as for any claim, but need not blind it again, nor read it again when no
// write of claims reached the database since this read.
struct ClaimRead {
  std::string claim;                 // as the caller names it ("taxcode/...", "swab/...")
  std::optional<std::string> owner;  // the stream holding it, as read
  // The store's own, passed back unchanged: the claim as stored (a personal one blinded)
  // and the store's count of claim writes when the read began (0: none to trust).
  std::string stored;
  uint64_t generation = 0;
};

struct AppendRequest {
  std::string stream;
  ExpectedVersion expected;
  std::vector<NewEvent> events;  // appended atomically: all or none
  domain::Actor actor;
  std::string correlation_id;
  std::string causation_id;
  // Optional. A repeat with the same key and the same `request_digest` gets the first
  // answer back (`replayed = true`) and appends nothing; with another digest it is
  // rejected with kIdempotencyKeyReused. Callers scope keys (e.g. by user).
  std::string idempotency_key;
  std::string request_digest;
  // Keys unique across the whole store ("swab/AB123"); taken atomically with the append.
  // Personal claims (domain::IsPersonalClaim, "taxcode/...") are stored as a keyed hash.
  std::vector<std::string> claims;
  // Claims this stream gives up with the append (ignored when another stream holds them).
  std::vector<std::string> released_claims;
  // Optional: reads of some of `claims` made on this store (ReadClaim) while deciding. They
  // spare the store the claim's keyed hash and, unless claims were written meanwhile, its
  // point read; they never spare the check itself (a claim taken by a group not yet in the
  // database, or since the read, is still refused).
  std::vector<ClaimRead> claim_reads;
  // Destroys the stream's personal-data key with the append (PersonalDataErased): every
  // personal part of the stream reads as erased from then on, and the stream can never
  // record personal data again. Once acknowledged, the key has also been compacted away
  // from the store's files (see FORMAT.md).
  bool erase_personal_data = false;
};

struct AppendResult {
  std::string stream;
  uint64_t first_position = 0;
  uint64_t last_position = 0;
  uint64_t version = 0;  // stream version after the append
  bool replayed = false;
};

struct StoreOptions {
  std::string path;
  bool create_if_missing = true;
  // A group commit takes at most this many requests (a group is otherwise what arrived
  // while the previous one was being synced).
  size_t max_group_size = 4096;
  // How recorded-at is read; tests replace it. Recorded-at never goes backwards.
  std::function<Timestamp()> clock;
  // How many envelopes at the end of the log Open re-verifies against the hash chain.
  uint64_t verify_tail_on_open = 1024;
  // RocksDB block cache in bytes.
  size_t block_cache_bytes = 256 << 20;
  // Bytes the memtables of all column families may hold together before the largest is
  // flushed (RocksDB's db_write_buffer_size); 0: no total, each family up to its own two
  // 64 MiB memtables.
  size_t write_buffer_bytes = 0;
  // The master key file (32 bytes) that wraps the per-stream keys of personal data and
  // keys the blind index of personal claims; created (mode 0600) when missing and the
  // store has never had one. Open refuses a key other than the store's first. Empty: no
  // personal data can be appended (kInvalidArgument) and reads leave personal parts sealed
  // (Envelope::personal_form); the rest works (verify, views, benchmarks of the log).
  std::string master_key_path;
  // The RocksDB environment (files, threads); null: the default. Tests inject I/O faults
  // through it (eventstore/write_failure_test.cc).
  std::shared_ptr<rocksdb::Env> env;
  // The free-space floor (disk_space.h): while the volume holding `path` has fewer bytes
  // available, appends and checkpoints are refused with kNoSpace and nothing is written;
  // they are accepted again, without a reopen, once space is back above it. 0: no floor.
  uint64_t min_free_bytes = 0;
  // A primary that ships its log to a warm standby (standby.h) keeps the write-ahead log
  // files RocksDB no longer needs, up to this many seconds, until the shipper has sent them
  // (it deletes them then): what a standby that fell behind reads to catch up. 0: none kept.
  uint64_t wal_archive_seconds = 0;
};

// A store's part in a warm-standby pair (standby.h, docs/standby.md), kept in the store.
struct StoreRole {
  bool standby = false;           // follows a primary: appends refused until promoted
  uint64_t epoch = 0;             // a primary's epoch: 0 never promoted, +1 per promotion
  uint64_t fenced_by = 0;         // a standby was promoted over this store at that epoch:
                                  // it refuses appends for good
  uint64_t applied_sequence = 0;  // standby: the primary's WAL sequences applied, up to here
  uint64_t stream_sequence = 0;   // standby: the JetStream sequence of the last message applied
  uint64_t primary_epoch = 0;     // standby: the epoch of the primary it follows
};

// What a primary ships to its standby: whole RocksDB write batches from its write-ahead log,
// byte for byte, in sequence order (standby.h).
struct ShippedBatches {
  uint64_t epoch = 0;              // the shipping primary's epoch
  uint64_t primary_committed = 0;  // its committed position when it read them
  uint64_t first_sequence = 0;     // the first batch's RocksDB sequence
  uint64_t end_sequence = 0;       // the sequence after the last batch's last entry
  uint64_t last_position = 0;      // the highest log position the batches hold (0: none)
  std::vector<std::pair<uint32_t, std::string>> families;  // column family id, name
  std::vector<std::string> batches;                        // WriteBatch representations
};

struct StandbyApplied {
  uint64_t end_sequence = 0;  // the next primary sequence expected
  uint64_t position = 0;      // the standby's committed position after the apply
  size_t events = 0;          // events appended by this apply
};

// Counters of the write path, for /metrics (the store's probe).
struct StoreStats {
  uint64_t group_commits = 0;     // WAL syncs done
  uint64_t appends = 0;           // requests appended (not counting idempotent replays)
  uint64_t events = 0;            // events appended
  uint64_t sync_micros = 0;       // time spent in synced writes (WAL write, sync, memtable inserts)
  // Of it, in the WAL's write and sync alone, up to the first memtable insert: what an
  // appender waits for since a group is answered once synced (docs/benchmarks.md, session 26).
  uint64_t wal_sync_micros = 0;
  uint64_t max_group_size = 0;    // largest group seen
  // The disk's stalls, which set the tail latency of commands: every acknowledgement
  // behind a slow sync waits for it (docs/benchmarks.md, 2026-12-03).
  uint64_t max_sync_micros = 0;   // longest synced write
  uint64_t slow_syncs = 0;        // synced writes that took over kSlowSyncMicros
  static constexpr uint64_t kSlowSyncMicros = 10'000;
  // Reads of the log (ReadLog, ReadLogInto) that returned records, and those of them served
  // from the last groups' records in memory rather than the database (the views' reads of
  // what was just committed).
  uint64_t log_reads = 0;
  uint64_t log_reads_in_memory = 0;
};

// What a RocksDB database holds in memory (the store's; the views database's:
// projections::ViewsMemory), for the memory budget (serve --memory-budget) and /metrics.
struct RocksMemory {
  uint64_t block_cache = 0;           // bytes in its block cache (index and filter blocks too, where charged to it)
  uint64_t block_cache_capacity = 0;  // the cache's bound
  uint64_t memtables = 0;             // active, immutable and pinned memtables
  uint64_t table_readers = 0;         // index and filter blocks held by open tables outside the cache
  uint64_t total() const { return block_cache + memtables + table_readers; }
};

struct ChainTip {
  uint64_t position = 0;
  Hash hash{};
};

class EventStore : public LogReader {
 public:
  // Opens (or creates) the store and recovers heads, the committed position and the chain
  // tip. A log whose tail does not verify is reported as kCorruption, never skipped.
  static StoreResult<std::unique_ptr<EventStore>> Open(const StoreOptions& options);

  virtual ~EventStore() = default;

  // Appends atomically and durably, without blocking: the request is checked and put in
  // the forming group commit on the calling thread (a short lock, RocksDB point reads of
  // heads, claims and keys), and `done` is called once, on a commit thread (one group at a
  // time, in group order), after its group's WAL sync: acknowledged means durable, and every
  // answer (a rejection too) is given only after the sync of the group it was decided in,
  // so no answer reflects state that a crash could still take back. It may come before the
  // group is readable (while its memtable inserts run): a read begun after it waits until
  // it is (every read of this interface, CommittedPosition included), except a read inside
  // `done` itself. `done` must be quick (hand the result to another thread) and must not
  // call Append (AppendAsync is fine) nor any other write of this store (PutCheckpoint,
  // Fence, ...): a group of up to 256 requests is answered inside RocksDB's write of it,
  // on the thread that saw its sync, where a nested write would wait for itself.
  // A group forms while the previous one is synced and waits only for that sync.
  using AppendCallback = std::function<void(StoreResult<AppendResult>)>;
  virtual void AppendAsync(AppendRequest request, AppendCallback done) = 0;
  // The same, waiting on the calling thread for the answer (CLI, tools, tests).
  StoreResult<AppendResult> Append(const AppendRequest& request);

  // Events of one stream with version >= from_version, at most max_count. Personal parts
  // come back open (decrypted), or erased, or sealed when the store has no master key.
  virtual StoreResult<std::vector<Envelope>> ReadStream(const std::string& stream,
                                                        uint64_t from_version,
                                                        size_t max_count) const = 0;
  // The events of each of `streams` at positions up to `until` (out[i]: those of
  // streams[i], in version order), as ReadLog gives them: personal parts sealed (not
  // opened), every record checked against the hash chain. For tools that fold some
  // streams again beside views built from the log (a what-if reads ~10^5 people's): the
  // records are read in position order through one iterator, each hash recomputed forward
  // from the anchor before it and carried on to the next record read, where ReadStream
  // looks each record up, walks back to its anchor on an iterator of its own and opens
  // its personal part.
  virtual StoreResult<void> ReadStreamsSealed(const std::vector<std::string>& streams, uint64_t until,
                                              std::vector<std::vector<Envelope>>& out) const = 0;
  // ReadLog (LogReader, log_reader.h): committed events with position >= from_position, at
  // most max_count, in order. Personal parts are not opened (personal_form kSealed,
  // `personal` empty): log consumers (views, the relay, rebuilds) never need them; read the
  // stream for them. CommittedPosition and WaitForPosition: see LogReader.
  // Current version of a stream (0 if it does not exist).
  virtual StoreResult<uint64_t> StreamVersion(const std::string& stream) const = 0;
  // Stream holding a claim, if any ("swab/AB123" -> "person-01H..."). Personal claims are
  // looked up by their keyed hash (kInvalidArgument without a master key).
  virtual StoreResult<std::optional<std::string>> ClaimOwner(const std::string& claim) const = 0;
  // ClaimOwner, with what an append taking the claim may reuse (AppendRequest::claim_reads).
  virtual StoreResult<ClaimRead> ReadClaim(const std::string& claim) const = 0;

  // The first answer given to an idempotency key, if the key was used: lets a caller
  // answer a retry before deciding anything. `digest` is the first request's digest.
  struct IdempotentAnswer {
    std::string digest;
    AppendResult result;  // with replayed = true
  };
  virtual StoreResult<std::optional<IdempotentAnswer>> FindIdempotencyKey(
      const std::string& key) const = 0;
  // The `request_digest` to record with an idempotency key for `request` (a caller's
  // canonical form of it, e.g. method, path and body): a keyed hash (FORMAT.md, "Personal
  // data"), so that a stored digest lets nobody without the master key test guesses of a
  // body that held personal data. A store opened without a master key, which cannot append
  // personal data, gives the unkeyed SHA-256 hex that stores wrote before keyed digests.
  virtual std::string RequestDigest(std::string_view request) const = 0;
  // Whether `stored` (an IdempotentAnswer's digest) is the digest of `request`, either
  // form: records written before keyed digests keep their unkeyed one and still match.
  virtual bool RequestDigestMatches(std::string_view stored, std::string_view request) const = 0;

  // CommittedPosition() is the highest position that is durable and readable.
  virtual ChainTip Tip() const = 0;
  // Called with the new committed position after every group commit, on the committing
  // thread; must be quick and must not append.
  virtual void AddCommitListener(std::function<void(uint64_t)> listener) = 0;
  // Run on the commit thread answering a group, around its answers: `before` ahead of
  // its first AppendAsync `done`, `after` once its last returned (also when the group was
  // refused). For a caller that hands each answer to another thread: it can wake each such
  // thread once per group, in `after`, instead of once per answer. Both must be quick and
  // must not append; either may be empty.
  struct AnswerHooks {
    std::function<void()> before;
    std::function<void()> after;
  };
  virtual void AddAnswerHooks(AnswerHooks hooks) = 0;

  virtual StoreStats Stats() const = 0;
  // What the store's database holds in memory now. Thread-safe.
  virtual RocksMemory Memory() const = 0;
  // Why appends are refused now, or nullopt while they are accepted: kNoSpace (below the
  // free-space floor, or RocksDB met a full disk) or kWritesRefused (a write or sync failed:
  // only a reopen recovers). For /readyz and /metrics.
  virtual std::optional<StoreError> WriteRefusal() const = 0;

  // Consumer checkpoints (the NATS relay, projections that keep theirs here).
  virtual StoreResult<uint64_t> GetCheckpoint(const std::string& consumer) const = 0;
  virtual StoreResult<void> PutCheckpoint(const std::string& consumer, uint64_t position) = 0;

  // Bytes of the live SST files of every column family (call CompactAll first for a
  // settled figure; the WAL is not counted).
  virtual uint64_t DiskBytes() const = 0;
  // Flushes memtables and compacts every column family (bench, bytes-per-event figures).
  virtual StoreResult<void> CompactAll() = 0;

  // Adds a backup of the whole store to the RocksDB BackupEngine directory `dir` (created
  // if missing; backup.h) while appends go on: every append acknowledged before the call is
  // in it, and the backup records the tip as of the call. Files `dir` holds already are not
  // copied again. Refused (kWritesRefused) after a failed write. Callers serialize backups.
  struct Backup {
    uint32_t id = 0;
    ChainTip tip;
  };
  virtual StoreResult<Backup> BackupTo(const std::string& dir) = 0;

  // Warm standby (standby.h, docs/standby.md); implemented in standby_store.cc.
  virtual StoreRole Role() const = 0;
  // Makes an empty store (or a standby already) a standby: appends and checkpoints are
  // refused until Promote(). kInvalidArgument for a store that holds events of its own or
  // was a primary.
  virtual StoreResult<void> BecomeStandby() = 0;
  // A standby appends what its primary shipped: batches must continue its applied sequence
  // exactly (earlier ones are skipped as already held), events must continue its log and
  // its hash chain, the master key check must be its own; else kCorruption and nothing is
  // written. Written with one synced write, then the committed position moves.
  virtual StoreResult<StandbyApplied> ApplyShipped(const ShippedBatches& shipped, uint64_t stream_sequence) = 0;
  // Turns a standby into a primary: verifies the log's tail as Open does, records the
  // role and the new epoch (the primary's + 1), then accepts appends.
  virtual StoreResult<StoreRole> Promote() = 0;
  // Records that a standby was promoted over this primary at `epoch`: from then on, and
  // after a restart, appends are refused (kWritesRefused).
  virtual StoreResult<void> Fence(uint64_t epoch) = 0;
  // A primary's side: the last RocksDB sequence written, and the write batches from
  // `sequence` on (at least one when there is one, then up to `max_bytes`). kNotFound when
  // the write-ahead log no longer holds `sequence` (the standby must be seeded again).
  virtual uint64_t LatestSequence() const = 0;
  virtual StoreResult<ShippedBatches> ReadWalSince(uint64_t sequence, size_t max_bytes) const = 0;
  // Deletes the kept write-ahead log files whose every batch is below `sequence` (shipped).
  virtual void ReleaseWalBefore(uint64_t sequence) = 0;
  // A MAC of `bytes` under a key derived from the master key (standby frames); nullopt
  // for a store opened without one.
  virtual std::optional<std::string> ShipMac(std::string_view bytes) const = 0;
};

// Result of walking the log. `first_bad_position` is 0 when everything verified.
struct VerifyReport {
  uint64_t events_checked = 0;
  uint64_t index_entries_checked = 0;
  uint64_t first_bad_position = 0;
  std::string problem;
};

struct VerifyOptions {
  std::string path;
  // Called every `progress_every` events with the position reached.
  std::function<void(uint64_t)> progress;
  uint64_t progress_every = 1'000'000;
};

// Walks the whole hash chain and checks the stream index against the log, read-only
// (works while a server has the store open). Slow on big logs: a full scan.
StoreResult<VerifyReport> VerifyStore(const VerifyOptions& options);

}  // namespace caseledger::eventstore
