// Private to projections/: the views database, a RocksDB of its own (see view_runner.h
// for the key layout). Writes go in one WriteBatch per applied batch of events.
#pragma once

#include "eventstore/event_store.h"
#include "projections/views_db_options.h"

#include <atomic>
#include <deque>
#include <functional>
#include <future>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rocksdb {
class Cache;
class DB;
class Env;
struct Options;
class Snapshot;
class WriteBatch;
}  // namespace rocksdb

namespace caseledger::projections {

class CreationFileSystem;

// How ViewsDb::Ingest writes its table files. `compressed` false: the blocks as they are
// (no LZ4), for many entries written at once where the compression is most of the writer's
// CPU (a catch-up's people: its end is serial wall time); reads of such blocks skip the
// decompression.
struct TableIngestOptions {
  bool compressed = true;
};

class ViewsDb {
 public:
  template <class T>
  using Result = eventstore::StoreResult<T>;

  class Batch {
   public:
    Batch();
    ~Batch();
    void Put(std::string_view key, std::string_view value);
    void Delete(std::string_view key);
    size_t bytes() const;
    size_t count() const;
    // Appends every Put and Delete of `other`, in its order (the pipeline's partitions and
    // views fill batches of their own, written as one): a copy of its bytes, not a replay.
    void Append(const Batch& other);
    // Puts the entries in key order (stable: a key written twice keeps the later value, and
    // only that one is kept). On the pool's threads, each partition and view sorts its own
    // entries: the batch made of them by Append is then written as it is, sorted run after
    // sorted run (Write sorts only a batch with many entries put outside any sorted run).
    void Sort();
    // Appends the entries of `runs` (each sorted: Sort) merged in key order; a key in several
    // runs keeps their order (the partitions' runs share no key).
    void Merge(const std::vector<const Batch*>& runs);
    void Clear();
    // Clear, and gives its buffer back (Clear keeps it for the next batch).
    void Release();
    // Its write completes a database Create made: it carries the first checkpoint
    // (ViewsRecovery::Recovered::meta_unwritten). Once it is written, what the creation
    // did not sync is synced and the database marked complete (views_db_creation.h), on a
    // thread of its own. Clear forgets it.
    void Completes() { completes_ = true; }

   private:
    friend class ViewsDb;
    class Rep;
    std::unique_ptr<Rep> batch_;
    bool completes_ = false;
    // Entries put (Put, Delete) since the last Sort or Clear, Append adding the other's.
    size_t unsorted_ = 0;
  };

  // The settings the database opens in (CatchingUp): a database created for a catch-up
  // from scratch opens in the catch-up's, rather than rewriting its OPTIONS file (synced)
  // twice, at the catch-up's start and end (docs/benchmarks.md, session 22).
  enum class Settings { kFollowing, kCatchingUp };
  static Result<std::unique_ptr<ViewsDb>> Open(const std::string& path, const ViewsDbOptions& options = {},
                                               Settings settings = Settings::kFollowing);
  // Open for a database created for a catch-up from scratch (`path` missing or empty; else
  // it is Open): returns at once, and RocksDB creates the database on a thread of its own
  // meanwhile, while the catch-up reads and folds its first batches. Every call waits for
  // the creation and returns its error, if any, but two: Pin before it is done gives a
  // snapshot of the empty database (nothing is found as of it, whatever is written later),
  // and Memory counts nothing yet. The database is incomplete (`<path>/CREATING`) until a
  // batch that Completes is written: its creation synced nothing but the marker
  // (views_db_creation.h), so a crash or a power loss before then may leave files an open
  // cannot read; RemoveIfIncomplete removes such a directory.
  static Result<std::unique_ptr<ViewsDb>> Create(const std::string& path, const ViewsDbOptions& options,
                                                 Settings settings);
  // If `path` holds a database Create made and no batch completed (a crash or a power
  // loss came first), removes the directory and returns true: it is worth nothing (no
  // checkpoint), and what the creation did not sync may be gone. Logs it.
  static bool RemoveIfIncomplete(const std::string& path);
  // Waits for a creation still running, and for the completion's syncs (Batch::Completes).
  ~ViewsDb();

  // `at`: as of that snapshot (Pin), else the latest state.
  Result<std::optional<std::string>> Get(std::string_view key, const rocksdb::Snapshot* at = nullptr) const;
  // The entries whose key starts with `prefix`, in key order, as of `at` (else the latest).
  Result<void> Scan(std::string_view prefix, const rocksdb::Snapshot* at,
                    const std::function<void(std::string_view, std::string_view)>& visit) const;
  // The entries with from <= key < to, in key order, as of the latest state.
  Result<void> ScanRange(std::string_view from, std::string_view to,
                         const std::function<void(std::string_view, std::string_view)>& visit) const;
  // The database as of now, for consistent reads later; the database must outlive it.
  // Thread-safe.
  std::shared_ptr<const rocksdb::Snapshot> Pin() const;
  // The values of `keys` (sorted ascending: RocksDB reads them in one pass), nullopt for
  // a key not there; out[i] is keys[i]'s.
  Result<std::vector<std::optional<std::string>>> MultiGet(const std::vector<std::string>& keys) const;
  // Keys MultiGet was asked for since the database was opened (any thread): the person
  // records a runner read back.
  uint64_t KeysRead() const { return keys_read_.load(std::memory_order_relaxed); }
  // Every entry in key order, but those whose key starts with one of `skip` (non-empty
  // prefixes, each passed over with one seek); `visit` returns false to stop.
  Result<void> ForEach(const std::function<bool(std::string_view, std::string_view)>& visit,
                       std::initializer_list<std::string_view> skip = {}) const;
  // Atomically: all of the batch or nothing. `sync` waits for the WAL sync; without it the
  // batch skips the WAL, and a crash may lose the latest unsynced batches (whole ones, the
  // newest first: what remains is the database as some earlier batch left it). A batch
  // that Completes, once written, starts the completion of a database Create made.
  Result<void> Write(Batch& batch, bool sync);
  // Keeps the batch (taken: it goes on empty, with a buffer of an earlier one) for a table file ingested into the database
  // (IngestExternalFile) once the batches kept reach a memtable's size (FlushTables):
  // the memtable's skip list cost ~7,000 instructions per entry, where the kept batches
  // are merged in key order (docs/benchmarks.md, session 20), each put in Batch::Sort's
  // order as the merge reads it (session 24: not sorted when kept). For a catch-up
  // from scratch, whose batches nobody reads before its end (the people are in their
  // spill, people_spill.h; the views are published at the end): a batch kept is not read.
  // Table files go to `dir`, moved into the database. One thread at a time; batches kept
  // and not flushed are dropped with the database (a catch-up stopped before its end).
  // From its first table file until FlushTables, the database compacts nothing: each
  // compaction of level 0 rewrote all of level 1, which held every key written so far
  // (quadratic in the history: docs/benchmarks.md, session 26); the table files are
  // compacted once, after FlushTables, and nothing reads them meanwhile.
  Result<void> WriteAsTable(Batch& batch, const std::string& dir);
  // Writes what WriteAsTable kept as one table file and ingests it (nothing kept: nothing),
  // gives back the buffers WriteAsTable recycles, and lets the database compact again (the
  // table files in one compaction, in the background; writes meanwhile are not stalled by
  // level 0's files: Level0Settings). May run beside Ingest on another thread (the
  // catch-up's end: its kept batches and its people ingested at once). Like Ingest, it
  // writes its table file before it waits for Create's creation.
  Result<void> FlushTables(const std::string& dir);
  // From HoldIngestions until IngestHeld, the table files of Ingest and FlushTables are
  // written and kept in `dir` (moved there: it must exist, on the database's file system),
  // not ingested, and those calls return once they are kept; IngestHeld then ingests them
  // all in one IngestExternalFile (their key ranges may overlap; no key may be in two of
  // them), or, with `ingest` false (a failure elsewhere), drops them. Each ingestion syncs
  // the database's MANIFEST twice and its directory once: a catch-up's end ingested three
  // times (the views' entries, the people, the GP rows), six synced writes more than once
  // on its path (docs/benchmarks.md, session 32). Nothing held is visible or durable
  // before IngestHeld: for a catch-up from scratch's end, whose checkpoint comes after.
  // Ingest and FlushTables may hold from two threads at once.
  void HoldIngestions(const std::string& dir);
  Result<void> IngestHeld(bool ingest = true);
  // Deletes every entry (one range tombstone).
  Result<void> DropAll();
  // Writes the entries `next` yields (it sets key and value and returns true, or returns
  // false at the end; keys strictly ascending) to a table file at `path` and ingests it
  // (RocksDB's IngestExternalFile, the file moved in): no memtable, no flush, and no
  // compaction where the keys are apart from the database's others. Visible at once and
  // durable as an ingested file is (a crash may not lose it, unlike an unsynced Write).
  // For many entries at once: a catch-up's people (people_spill.h). Nothing yielded:
  // nothing written.
  using IngestSource = std::function<Result<bool>(std::string& key, std::string& value)>;
  using IngestOptions = TableIngestOptions;
  Result<void> Ingest(const std::string& path, const IngestSource& next, const IngestOptions& options = {});
  // The same for several sources at once, each written to its own table file (`paths`, one
  // per source) on a thread of its own, the files then ingested together: the sources' key
  // ranges must not overlap. Any source's error: nothing ingested.
  Result<void> Ingest(const std::vector<std::string>& paths, const std::vector<IngestSource>& sources,
                      const IngestOptions& options = {});
  // Writes the memtable to disk: batches written without the WAL become durable and
  // visible to another (read-only) opening of the directory.
  Result<void> Flush();
  // What the database holds in memory now (block cache, memtables, table readers).
  // Thread-safe.
  eventstore::RocksMemory Memory() const;
  // The table files level 0 holds now (what the stall triggers count from; 0 while the
  // database cannot be read). Thread-safe.
  uint64_t Level0Files() const;
  // A catch-up's settings (true) or following the log's (false), changed in place: while
  // catching up, level 0 takes many more files before they are compacted (views_db.cc says
  // why) and the memtable is ViewsDbOptions::catch_up_write_buffer_bytes. Nothing to do
  // (no OPTIONS file written) when the database is in those settings already. One thread
  // at a time.
  Result<void> CatchingUp(bool on);
  bool catching_up() const { return catching_up_; }
  // What the database wrote since it was opened, and the keys MultiGet was asked for, in
  // one line for a log ("flushed 697 MiB; compactions read 2,714 MiB and wrote 2,171 MiB
  // in 45.6 s of CPU; 2 write stalls; 405574 records read back").
  std::string WriteSummary() const;

 private:
  ViewsDb() = default;
  // Waits for Create's creation, if one runs, and returns its error. Thread-safe.
  Result<void> Ready() const;
  // `at` is a snapshot Pin gave before the creation was done: of the empty database.
  static bool NothingAsOf(const rocksdb::Snapshot* at);
  // `next`'s entries into a new table file at `path`; false: nothing yielded, no file.
  // Needs only the options (table_options_): not Create's creation.
  Result<bool> WriteTable(const std::string& path, const IngestSource& next, const IngestOptions& options) const;
  // Ingests `files` (moved in), or keeps them while HoldIngestions holds; removes them
  // either way once done with them.
  Result<void> IngestFiles(const std::vector<std::string>& files);
  // The first table_used_ of table_runs_ merged into a table file and ingested.
  Result<void> MergeTables(const std::string& dir);
  // A database Create made: what its creation did not sync synced, then its marker removed,
  // on a thread of its own (completing_). Once.
  void Complete();
  // Compactions off (WriteAsTable), or on again with level 0's stall triggers above the
  // files it holds (FlushTables).
  Result<void> HoldCompactions();
  Result<void> ReleaseCompactions();

  ViewsDbOptions options_;
  std::string path_;
  // A database Create made: the file system that skipped its creation's syncs (for the
  // database's life: RocksDB keeps the files it opened then) and its Env. Declared before
  // db_: they outlive it.
  std::shared_ptr<CreationFileSystem> creation_fs_;
  std::unique_ptr<rocksdb::Env> creation_env_;
  std::future<void> completing_;  // Complete's thread
  bool catching_up_ = false;       // the settings it is in (CatchingUp)
  std::deque<Batch> table_runs_;  // WriteAsTable's, in write order (a deque: Batch does not move)
  size_t table_used_ = 0;          // how many of them hold a batch; the others, their buffers
  size_t table_bytes_ = 0;
  uint64_t tables_ = 0;
  bool compactions_held_ = false;  // HoldCompactions until ReleaseCompactions
  std::shared_ptr<rocksdb::Cache> cache_;
  // The options the database opens with, for the table files written for it (Ingest,
  // WriteAsTable) before Create's creation is done.
  std::shared_ptr<const rocksdb::Options> table_options_;
  // HoldIngestions's directory (empty: not holding) and the files kept there.
  std::mutex held_mu_;
  std::string held_dir_;                // guarded by held_mu_
  std::vector<std::string> held_;       // guarded by held_mu_
  uint64_t held_count_ = 0;             // guarded by held_mu_: names the files kept
  // Set by Open, or by the first Ready after Create's creation (mutable: a const call may
  // be the first to wait for it); read only after Ready.
  mutable std::unique_ptr<rocksdb::DB> db_;
  // Create's creation: ready_ once taken by Ready (its error then in creation_error_).
  mutable std::atomic<bool> ready_{true};
  mutable std::mutex creating_mu_;
  mutable std::future<Result<rocksdb::DB*>> creating_;  // guarded by creating_mu_
  mutable std::optional<eventstore::StoreError> creation_error_;
  mutable std::atomic<uint64_t> keys_read_{0};
};

}  // namespace caseledger::projections
