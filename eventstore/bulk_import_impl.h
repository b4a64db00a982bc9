// The bulk import's state (bulk_import.h), shared by its two halves: bulk_import.cc (Add: the
// checks, positions and record bodies, on the caller's thread) and bulk_import_files.cc (the
// pool that chains and writes the chunks, then Commit's index files and ingestion). Private
// to eventstore.
#pragma once

#include "eventstore/bulk_import.h"
#include "eventstore/bulk_index_runs.h"
#include "eventstore/bulk_runs.h"
#include "eventstore/rocks_event_store.h"
#include "eventstore/rocks_status.h"

#include <boost/unordered/unordered_flat_map.hpp>
#include <boost/unordered/unordered_flat_set.hpp>

#include <rocksdb/sst_file_writer.h>

#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace caseledger::eventstore {
namespace bulk_import_internal {

// A RocksDB failure of the import, named with what it was doing.
inline StoreError FromStatus(const rocksdb::Status& s, const std::string& what) {
  return StoreErrorFrom(s, "bulk import: " + what);
}

inline StoreError Invalid(std::string message) { return StoreError{StoreErrorCode::kInvalidArgument, std::move(message)}; }

// A claim held in the import's table (BulkImport::Impl::claims_) with its hash, taken once
// per claim where the import first looks the claim up and kept for the table's probe, its
// insert and its rehashes: std::hash of the claim was taken for the filter of hashes and
// boost::hash twice more, for the table's look-up and its insert, and a rehash read every
// claim's bytes again (cache misses: the claims' bytes lie apart from the table). 32 bits
// of the hash beside the holder. The claim's bytes lie in the run's ClaimBytes: a string
// each was 40 bytes an entry and an allocation of 32 or 48 more, freed (cold) at each run.
struct ClaimKey {
  mutable const char* data = nullptr;  // the claim's bytes (moved into ClaimBytes once inserted: the same bytes)
  uint32_t size = 0;
  uint32_t hash = 0;
  // The holding stream's name (in the import's list of streams, where it stays put), or
  // null: released. Not of the key. A pointer, not the stream's number, so that a pool
  // thread writing a run of claims reads names without the list, which the import grows.
  mutable const std::string* holder = nullptr;
  std::string_view claim() const { return {data, size}; }
};

// The bytes of the claims held since the last run, one after another in blocks that are
// kept for the next run (Clear).
class ClaimBytes {
 public:
  // A copy of `claim`, valid until Clear.
  const char* Copy(std::string_view claim) {
    if (claim.size() > kBlock) {  // longer than a block: a block of its own
      large_.push_back(std::make_unique<char[]>(claim.size()));
      std::memcpy(large_.back().get(), claim.data(), claim.size());
      return large_.back().get();
    }
    if (filling_ == nullptr || claim.size() > kBlock - used_) {
      if (next_ == blocks_.size()) blocks_.push_back(std::make_unique<char[]>(kBlock));
      filling_ = blocks_[next_++].get();
      used_ = 0;
    }
    char* out = filling_ + used_;
    std::memcpy(out, claim.data(), claim.size());
    used_ += claim.size();
    return out;
  }
  // Forgets every copy; the blocks are filled again.
  void Clear() {
    next_ = 0;
    filling_ = nullptr;
    used_ = 0;
    large_.clear();
  }

 private:
  static constexpr size_t kBlock = 1 << 20;
  std::vector<std::unique_ptr<char[]>> blocks_;
  size_t next_ = 0;  // the block to fill after filling_
  char* filling_ = nullptr;
  size_t used_ = 0;  // of filling_
  std::vector<std::unique_ptr<char[]>> large_;
};
// The same claim, looked up: a view and its hash.
struct ClaimRef {
  std::string_view claim;
  uint32_t hash = 0;
};
struct ClaimKeyHash {
  using is_transparent = void;
  size_t operator()(const ClaimKey& k) const { return k.hash; }
  size_t operator()(const ClaimRef& k) const { return k.hash; }
};
struct ClaimKeyEqual {
  using is_transparent = void;
  static bool Same(uint32_t ha, std::string_view a, uint32_t hb, std::string_view b) { return ha == hb && a == b; }
  bool operator()(const ClaimKey& a, const ClaimKey& b) const { return Same(a.hash, a.claim(), b.hash, b.claim()); }
  bool operator()(const ClaimRef& a, const ClaimKey& b) const { return Same(a.hash, a.claim, b.hash, b.claim()); }
  bool operator()(const ClaimKey& a, const ClaimRef& b) const { return Same(a.hash, a.claim(), b.hash, b.claim); }
};
// The hash of a claim: all of it for the filter of claims seen (claim_hashes_), its high half
// for the table of claims.
inline size_t ClaimHash(std::string_view claim) { return std::hash<std::string_view>{}(claim); }
inline uint32_t ClaimTableHash(size_t hash) { return static_cast<uint32_t>(hash >> 32); }
using ClaimTable = boost::unordered_flat_set<ClaimKey, ClaimKeyHash, ClaimKeyEqual>;

// One stream as the import leaves it. What it has in the filling run of the stream index
// (bulk_runs.h) is the run's (IndexRun), found by its slot there, so that memory per stream
// stays small and fixed and a run handed to the pool needs nothing of it.
struct StreamState {
  format::Head head;      // after the import's appends so far
  uint32_t run = 0;       // the number of the last run it has entries in (0: none)
  uint32_t run_slot = 0;  // its slot in that run (IndexRun::streams, as first touched)
  enum class Key : uint8_t { kUnknown, kNone, kKey, kErased } key = Key::kUnknown;
  bool key_written = false;  // the import writes the stream's key entry (a seed, or a tombstone)
  bool written = false;      // the import appended to it
  DataKey data_key{};
};

// A run handed to a pool thread: written there, added to its SortedRuns by the import's
// thread (BulkImport::Impl::Land). `pending` is the import thread's; the rest is guarded
// by the pool's mutex.
template <class File>
struct RunWriteOf {
  bool pending = false;  // handed over, not landed yet
  bool done = false;     // written (or failed)
  std::string path;
  std::optional<StoreError> error;
  File file;
};
using RunWrite = RunWriteOf<SortedRuns::RunFile>;         // of the claims
using IndexRunWrite = RunWriteOf<IndexRunFiles::RunFile>;  // of the stream index

// A run of consecutive positions, hashed and written by one pool thread. The record bodies
// lie one after another in one buffer, each followed by kMaxTrailerSize bytes of room for
// its hash (filled when the chunk is chained): a string per event was an allocation, a free
// on the pool's thread and, at 1:100, ~7 % of the import thread in page faults.
struct Chunk {
  uint64_t index = 0;
  uint64_t first_position = 0;
  std::string bytes;
  std::vector<uint64_t> starts;  // of each record in `bytes`
  size_t size() const { return starts.size(); }
  // The body of record i (its room for the hash excluded).
  std::string_view Body(size_t i) const {
    const uint64_t end = (i + 1 < starts.size() ? starts[i + 1] : bytes.size()) - format::kMaxTrailerSize;
    return std::string_view(bytes).substr(starts[i], end - starts[i]);
  }
};

}  // namespace bulk_import_internal

class BulkImport::Impl {
  using StreamState = bulk_import_internal::StreamState;
  using TableSink = bulk_import_internal::TableSink;
  using Chunk = bulk_import_internal::Chunk;

 public:
  Impl(RocksEventStore& store, BulkImportOptions options) : store_(store), options_(std::move(options)) {}
  ~Impl();

  StoreResult<void> Start();
  // By reference: the public Add has the request by value already (one move less per event).
  StoreResult<AppendResult> Add(AppendRequest&& request, domain::Timestamp recorded_at);
  StoreResult<BulkImport::StreamHandle> OpenStream(std::string_view stream);
  StoreResult<AppendResult> Add(BulkImport::StreamHandle stream, AppendRequest&& request, domain::Timestamp recorded_at);
  StoreResult<AppendResult> Add(BulkImport::StreamHandle stream, AppendRequest&& request,
                                std::span<const BulkImport::EventView> events, domain::Timestamp recorded_at);
  StoreResult<BulkImport::Appended> Append(BulkImport::StreamHandle stream, AppendRequest&& request,
                                           std::span<const BulkImport::EventView> events, domain::Timestamp recorded_at);
  StoreResult<BulkImportStats> Commit();
  uint64_t events() const { return next_position_ - first_position_; }

 private:
  struct NamedStream;
  // The stream's state with its name and number, as the list holds them (stable).
  StoreResult<NamedStream*> Stream(std::string_view stream);
  // The Adds and Append by handle: the import's, the handle's and the request's checks, then
  // AddTo.
  StoreResult<BulkImport::Appended> AddByHandle(BulkImport::StreamHandle stream, AppendRequest&& r,
                                                std::span<const BulkImport::EventView> events, domain::Timestamp at);
  // Add to `stream` (r.stream is not read) the events `events` (r.events is not read).
  StoreResult<BulkImport::Appended> AddTo(NamedStream& stream, AppendRequest&& r,
                                          std::span<const BulkImport::EventView> events, domain::Timestamp at);
  // The answer of Add: `added` to `stream`.
  static AppendResult Named(const std::string& stream, const BulkImport::Appended& added) {
    return {stream, added.first_position, added.last_position, added.version, added.replayed};
  }
  // Views of r.events, in views_ (until the next call).
  std::span<const BulkImport::EventView> ViewsOf(const AppendRequest& r);
  // The checks of Add that come before the stream's: events (`events` of them), recorded-at
  // (set when zero), idempotency key (a repeat's answer in `*replay`).
  std::optional<StoreError> CheckRequest(const AppendRequest& r, size_t events, domain::Timestamp& at,
                                         std::optional<AppendResult>* replay);
  // The name of a claim's holder ("": released).
  static std::string_view ClaimHolder(const std::string* holder) {
    return holder ? std::string_view(*holder) : std::string_view();
  }
  // `hash` is ClaimHash(stored).
  StoreResult<std::optional<std::string>> ClaimOwner(const std::string& stored, size_t hash);
  // Records `claim` (hash ClaimHash(claim)) as held by the stream named `*holder`, or
  // released (null).
  void HoldClaim(std::string_view claim, size_t hash, const std::string* holder);
  // Hand the filling run of the index, or of the claims, to the pool as one more run, once
  // the one handed over before is landed (at most one of each in flight: memory holds one
  // run more than it fills).
  StoreResult<void> FlushIndexRun();
  StoreResult<void> FlushClaimRun();
  // On a pool thread: sort and write the run handed over.
  void WriteIndexRun();
  void WriteClaimRun();
  // Waits until `write` is written, then adds its file to `runs` (nothing when none is in
  // flight); its error, if it failed. A RunWrite with SortedRuns, an IndexRunWrite with
  // IndexRunFiles (bulk_import_runs.cc).
  template <class Write, class Runs>
  StoreResult<void> Land(Write& write, Runs& runs);
  // On the pool thread, once `write` is written or failed: its file or error, for Land.
  template <class Write, class File>
  void RunWritten(Write& write, StoreResult<File> file);
  // The claims of `table`, with their holders' names, sorted by claim.
  static std::vector<std::pair<std::string_view, std::string_view>> SortedClaims(
      const bulk_import_internal::ClaimTable& table);
  void Submit();
  // Runs `task` on a pool thread, before the chunks waiting (dropped if the pool stops first).
  void Post(std::function<void()> task);
  void Work();
  StoreResult<void> WriteChunk(Chunk& chunk);
  // Writes one table file of `cf` filled by `fill` (nothing when it adds no entry).
  StoreResult<void> WriteTable(rocksdb::ColumnFamilyHandle* cf, const std::string& name,
                               const std::function<rocksdb::Status(TableSink&)>& fill);
  StoreResult<void> WriteIndexes();
  // Where the stream index is cut so that `parts` threads merge it, a range of streams each
  // (their key prefixes, ascending; none: one range).
  std::vector<std::string> IndexSplits(size_t parts) const;
  StoreResult<void> Ingest();
  std::optional<StoreError> Failure() const;
  void Fail(StoreError e);
  void StopPool();

  RocksEventStore& store_;
  BulkImportOptions options_;
  bool empty_store_ = false;  // nothing to look up in the store
  uint64_t first_position_ = 1;
  uint64_t next_position_ = 1;
  domain::Timestamp last_recorded_;
  uint64_t appends_ = 0;
  // The streams in the order the import first named them (a deque: they stay where they
  // are, runs and claims point at their names), found by name in an open-addressing table
  // of their indexes: std::unordered_map's chained lookups and string compares were the
  // most of the import thread's own time in a profile of the bulk load.
  struct NamedStream {
    std::string name;
    StreamState state;
    uint32_t index = 0;  // in stream_list_
  };
  std::deque<NamedStream> stream_list_;
  boost::unordered_flat_map<std::string_view, uint32_t> streams_;  // views of the names in stream_list_
  NamedStream* last_stream_ = nullptr;                              // the last Stream() found
  // The filling run of the stream index (numbered run_number_) and the one handed to the
  // pool, if any (index_flight_, the pool thread's until landed).
  bulk_import_internal::IndexRun run_;
  uint32_t run_number_ = 1;
  bulk_import_internal::IndexRun index_flight_;
  bulk_import_internal::IndexRunWrite index_write_;
  std::unique_ptr<bulk_import_internal::IndexRunFiles> index_runs_;
  // Claims taken or released by the import: the latest since the last run in claims_
  // (stored claim -> the holding stream's name), those of the run handed to the pool in
  // claim_flight_ until it lands (read by both threads, changed by neither), older ones in
  // claim_runs_ (by name), and the hash of every one of them, so that a claim nobody took
  // (nearly all) is answered from memory. A pointer to the name, not a copy: a copy was an
  // allocation per claim and ~70 bytes more per claim held (a run holds up to 2^20).
  static constexpr uint32_t kMaxStreams = UINT32_MAX;
  bulk_import_internal::ClaimTable claims_;
  bulk_import_internal::ClaimBytes claim_bytes_;  // of claims_
  struct ClaimFlight {
    bulk_import_internal::ClaimTable claims;
    bulk_import_internal::ClaimBytes bytes;
  } claim_flight_;
  bulk_import_internal::RunWrite claim_write_;
  std::unique_ptr<bulk_import_internal::SortedRuns> claim_runs_;
  // Runs flushed, and the import's thread's time in the flushes (waiting for the run before
  // included): what the runs cost the load's critical path.
  uint64_t index_runs_flushed_ = 0, claim_runs_flushed_ = 0;
  double flush_seconds_ = 0;
  boost::unordered_flat_set<size_t> claim_hashes_;
  // The hashes of the claims CheckClaims asked AddTo's look-up about, in the order it asked:
  // each of the request's claims, then each released one (append_checks.h).
  std::vector<size_t> looked_up_hashes_;
  std::vector<BulkImport::EventView> views_;  // ViewsOf's
  std::unordered_map<std::string, std::pair<std::string, AppendResult>> idempotency_;
  std::vector<AppendRequest> erasures_;  // of streams the store held: purged after ingestion
  Chunk forming_;
  uint64_t chunks_ = 0;

  // The pool, guarded by mu_.
  mutable std::mutex mu_;
  std::condition_variable work_cv_, space_cv_, chain_cv_, run_cv_;
  std::deque<Chunk> queue_;
  std::deque<std::function<void()>> tasks_;  // runs to write (Post): taken before chunks
  size_t busy_ = 0;
  bool stopping_ = false;
  std::optional<StoreError> error_;
  uint64_t hashed_chunks_ = 0;  // chunks whose chain is done
  domain::Hash tip_{};          // hash at the end of the last hashed chunk
  std::map<std::string, rocksdb::ColumnFamilyHandle*> files_;  // written, to ingest
  // The buffers of a chunk written, emptied, for the next chunk to form in (at most one: the
  // pool is mostly idle, waiting for the import thread): a fresh buffer of ~20 MB per chunk
  // was page faults on the import thread, and more of them the longer the load (the
  // allocator returns freed pages after a delay).
  std::vector<Chunk> spare_chunks_;
  bool recycle_chunks_ = true;  // until Commit: then no chunk forms any more
  uint64_t file_bytes_ = 0;
  std::vector<std::thread> pool_;
  bool committed_ = false;
};

}  // namespace caseledger::eventstore
