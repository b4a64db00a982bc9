// Bulk loading (`caseledger import`, `caseledger-loadgen --sink import`, docs/import.md): appends that
// were decided elsewhere are written as sorted table files that RocksDB ingests in one
// step (IngestExternalFiles), instead of going through the group commit one WAL sync at a
// time. Every record is made by the write path's own code (record_format.h and the
// personal vault): the same envelopes, keys, sealed personal parts, claims, heads and
// hash chain as Append would write, so `verify` and every reader see no difference.
//
// All or nothing: nothing is visible in the store before Commit, and an import that fails
// or is dropped leaves the store as it was (its work directory is removed).
//
// Work is split so that it runs on every core: Add (the caller's thread) checks and
// numbers each request and encodes its records; pool threads chain-hash each chunk of
// events in position order and write it as a table file of its own, while the next chunk
// forms. The stream index and the claims are written as sorted runs (bulk_runs.h) whenever
// a bounded number has gathered, and merged at Commit; heads and keys are kept per stream in
// memory and written, sorted, at Commit.
//
// Thread safety: one thread at a time calls Add and Commit (another may take over once it
// is synchronised with the first, e.g. by joining it). REQUIRES: nothing else appends to the
// store between Begin and Commit (Commit refuses to ingest if something did).
#pragma once

#include "eventstore/event_store.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace caseledger::eventstore {

struct BulkImportOptions {
  // Where the table files are written before they are ingested: on the store's file
  // system, so that ingestion links them instead of copying. Created; removed afterwards.
  std::string work_dir;
  // Events per table file of the log (one chunk of work for a pool thread).
  uint64_t events_per_file = 1 << 18;
  // Pool threads hashing and writing chunks (the caller's thread is one more).
  int threads = 2;
  // Memory: index entries (one per event) and claims held before they are written as a
  // sorted run to work_dir (merged at Commit). What stays in memory until Commit is a few
  // dozen bytes per stream (its head and data key) and eight per claim. An index entry
  // waits in 4 bytes (8 while its run is sorted and written; ~11 until 2026-12-05, when a
  // run was 2^23 entries): a 1:10 load (9.9 M events) is merged from memory alone.
  uint64_t index_run_entries = 1 << 24;
  // A claim waits in 24 bytes of a table whose capacity steps by powers of two and its own
  // bytes (~30): 1.7 M is just under what the table of 2^20 claims held anyway (it holds
  // 1,720,320 before it doubles), in less memory than 2^20 took with a string each (before
  // 2026-12-05): a 1:10 load (2.96 M claims) writes one run instead of two.
  uint64_t claim_run_entries = 1'700'000;
  // zstd level of the compressed files written (the log's, the index's); 0: the family's
  // own (6). The files are ingested as they are, at the bottom level: at 1:100, level 3
  // took 15 % less CPU than 6 for 65.0 bytes/event instead of 62.7 (level 1: no less CPU).
  // Level 2 compresses the log's 64 KiB blocks with ~30 % less CPU than 3 for 0.05 % more
  // bytes (the index's and claims' 16 KiB blocks: ~25 % less, no more bytes); zstd was
  // ~14 % of a 1:10 load's CPU at level 3 (2026-12-06).
  int zstd_level = 2;
};

struct BulkImportStats {
  uint64_t appends = 0;
  uint64_t events = 0;
  uint64_t streams = 0;  // streams written to
  uint64_t files = 0;    // table files ingested
  uint64_t file_bytes = 0;
  uint64_t first_position = 0;
  uint64_t last_position = 0;
};

class BulkImport {
 public:
  // Starts an import after the store's last position (an empty store: from position 1).
  // The store must outlive the import.
  static StoreResult<std::unique_ptr<BulkImport>> Begin(EventStore& store, BulkImportOptions options);
  ~BulkImport();  // without a successful Commit: discards everything written
  BulkImport(const BulkImport&) = delete;
  BulkImport& operator=(const BulkImport&) = delete;

  // Adds one append after the previous ones, checked as the store checks it (stream id,
  // expected version, claims against the store and the earlier appends of this import,
  // idempotency key, personal data) and answered as Append would answer it. A rejected
  // request adds nothing. `recorded_at` is the envelopes' recorded-at: zero for the
  // clock; it must not be before the previous append's nor the store's last event's
  // (kInvalidArgument). After a failure of the import itself (kIo) every call fails.
  StoreResult<AppendResult> Add(AppendRequest request, domain::Timestamp recorded_at = {});

  // A stream of the import by number: named once, then appended to by handle (the Add
  // below) without its name in every request, for loads that append to the same streams
  // again and again (a person's events, one command at a time: at 1:10 building, handing
  // over and looking up the name was ~12 % of the generator's thread and ~19 % of the
  // import's). Opening a stream appends nothing. kInvalidArgument for a name Add refuses.
  // A handle stays valid until Commit.
  using StreamHandle = uint32_t;
  StoreResult<StreamHandle> OpenStream(std::string_view stream);
  // As Add above, to the stream `stream` names; `request.stream` is not read (may be empty).
  StoreResult<AppendResult> Add(StreamHandle stream, AppendRequest request, domain::Timestamp recorded_at = {});
  // An event of the request below, encoded by the caller (NewEvent's fields, by view).
  struct EventView {
    std::string_view type;
    uint32_t schema_version = 1;
    std::string_view body;
    std::string_view personal;
    domain::Timestamp effective_at;
  };
  // As Add above, with the request's events given by view (their bytes need live only
  // during the call; `request.events` must be empty): a loader that encodes many events
  // into one buffer of its own, on the thread that made them (the bulk load's generator),
  // hands them over without a string per field and event (an allocation there, a free and a
  // first touch of scattered bytes on the thread of the import).
  StoreResult<AppendResult> Add(StreamHandle stream, AppendRequest request, std::span<const EventView> events,
                                domain::Timestamp recorded_at = {});
  // What an append by handle added: its AppendResult without the stream's name, which a
  // caller appending by handle has already. The Add above copies the name into every answer
  // (an allocation, a copy and a free per append, ~6 % of the bulk load's import thread at
  // 1:10, for an answer the load drops).
  struct Appended {
    uint64_t first_position = 0;
    uint64_t last_position = 0;
    uint64_t version = 0;  // the stream's, after the append
    bool replayed = false;
  };
  // As the Add above, answered without the stream's name. The request by reference: the
  // loader hands over a request built in its batch, and moving it into a parameter of its
  // own (nine strings, four vectors, read cold from the batch) was ~1 % of the 1:10 load.
  StoreResult<Appended> Append(StreamHandle stream, AppendRequest&& request, std::span<const EventView> events,
                               domain::Timestamp recorded_at = {});

  // Writes what remains and ingests every file atomically, then moves the store's
  // committed position, tip and commit listeners as a group commit would. Call once.
  StoreResult<BulkImportStats> Commit();

  // Events added so far.
  uint64_t events() const;

 private:
  BulkImport() = default;
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace caseledger::eventstore
