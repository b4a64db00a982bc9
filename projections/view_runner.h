// Runs the views as one consumer of the log: reads committed events from its checkpoint,
// applies each event to every view (then to the person directory), and writes every
// changed entry plus the checkpoint in one RocksDB WriteBatch in the views database
// (DIR/views), so after any crash the views resume exactly where they stopped. Then it
// publishes the views' snapshots and announces the changes.
//
// Views database keys: "<view>/<key>" (each view's entries), "people/<person id>" (the
// person directory: read back by the batches that need a record not in its cache, never
// all at open), "checkpoint" (decimal position of the last applied event),
// "meta/format" and "meta/views" (comma-separated view names). A database written by
// another format or another set of views is dropped and rebuilt from the log.
#pragma once

#include "domain/rules.h"
#include "eventstore/event_store.h"
#include "projections/person_directory.h"
#include "projections/view.h"
#include "projections/views_db_options.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace caseledger::projections {

// Where a catch-up stands (a rebuild, a start far behind, a what-if's shadow): for the
// terminal, /readyz and /metrics (issue #14: progress on long work).
struct CatchUpProgress {
  uint64_t position = 0;          // applied and published
  uint64_t target = 0;            // what the catch-up runs to (committed, or `until`)
  double events_per_second = 0;   // applied since the catch-up started, per second of it
  double eta_seconds = -1;        // at that rate; -1 while unknown
  bool done() const { return position >= target; }
};

// "position 1,234,567 / 9,912,770 (12.5 %), 312,000 events/s, ETA 30 s"
std::string ProgressLine(const CatchUpProgress& p);

struct RunnerOptions {
  std::string path;            // the views database (created if missing)
  size_t max_batch = 4096;     // events per WriteBatch
  bool sync = false;           // the log is the truth: a lost views batch is re-applied
  // Stop applying at this position (what-if / verify rebuilds); 0: follow the log.
  uint64_t until = 0;
  // Measure ends of the person directory (ActiveMeasure::end), and so of every figure
  // counting running measures. Must be the book the views were given.
  std::shared_ptr<const domain::RuleBook> rules;
  // How long the follower thread waits for a new commit before looking at Stop().
  std::chrono::milliseconds poll = std::chrono::milliseconds(100);
  // The follower applies at most one batch per this interval: commits that arrive within
  // it wait and go into the next batch together. A batch's cost is mostly per batch (every
  // series row, lab and person it touched is encoded and written again), so under a steady
  // flow of small group commits this trades at most this much view freshness for a
  // fraction of the views' CPU (docs/benchmarks.md, 2026-12-03). 0: a batch per wake-up.
  std::chrono::milliseconds live_interval{0};
  // The log is another node's (a read replica's feed from JetStream): a stored
  // checkpoint ahead of what the feed holds yet is normal, not a sign of views ahead of
  // the log. Use sync = true with it: the feed acknowledges what the views have applied.
  bool remote_log = false;
  // When more than one batch behind (a rebuild of a log longer than a batch, a start far
  // behind), CatchUp reads and decodes the next batch on a thread of its own while it
  // applies the current one: a second core takes the read. The views are the same either
  // way. Not with remote_log.
  bool read_ahead = false;
  // Reading ahead: the threads that read (each a batch in turn: LogPrefetcher) and how many
  // batches they read ahead of the runner. One reader's thread had ~40 % of a catch-up's
  // instructions, and the runner's thread waited for its next batch at times
  // (docs/benchmarks.md, session 30). The views are the same either way.
  size_t read_threads = 2;
  size_t read_depth = 2;
  // A catch-up reading ahead that nobody reads (no follower started, no change listener:
  // serve's start, a rebuild) writes its batches' changes every this many events, each
  // person, row and figure once however many batches changed it (BatchPipeline::Defer);
  // 0: every batch. Not for the sequential runner (partitions == 0). The views are the
  // same either way; a crash loses at most this many events of work.
  size_t catch_up_write_every = size_t{1} << 17;
  // Person records kept in memory between batches (PersonDirectory's cache, each with its
  // person folds' states, e.g. their GP patient status; the others are read back from
  // "people/<id>" by the batch that needs them); 0: every one, as before. A record is ~0.5 KiB in memory (1:100 whole history: 45k people), so the
  // default is ~250 MiB at most. A batch pins the records of all its people on top.
  size_t person_cache = kDefaultPersonCache;
  static constexpr size_t kDefaultPersonCache = 1 << 19;
  // The same bound in bytes (issue #14: a server's memory bounded whatever the scale);
  // where non-zero it replaces the count above: the records' bytes (and their fold
  // states') as the allocator counts them (memory_estimate.h), averaged over the records
  // of each batch, so that the bound holds as records grow with each person's history.
  size_t person_cache_bytes = 0;
  // Whether person_cache_bytes gives way to the index and filter blocks no cache holds (a
  // server's memory budget covers them: serving/memory_budget.h): the views database's
  // table readers and what `other_tables` says (the store's), measured as they grow with
  // the data (~117 MiB at 1:1). Without it serve's RSS at 1:1 once ready was 1,001-1,031
  // MiB with the default budget of 640 MiB, with it 945 MiB (docs/benchmarks.md,
  // 2026-12-04 afternoon).
  bool records_give_way_to_tables = false;
  std::function<size_t()> other_tables;
  // The views database's RocksDB (views_db.h): its block cache and memtables, in bytes.
  ViewsDbOptions db;
  // How a batch is applied (batch_pipeline.h): 0 sequentially, one event at a time on the
  // runner's thread (the reference the tests compare the pipeline with); N >= 1 by the
  // pipeline, the person fold split in N partitions by person id, then each view on a
  // thread of its own. The views are the same whatever N, and a database written with
  // one N opens with any other.
  size_t partitions = kDefaultPartitions;
  static constexpr size_t kDefaultPartitions = 4;
  // Threads the pipeline runs on, the runner's included; 0: one per core.
  size_t threads = 0;
  // Called on the runner's thread after a published batch of a catch-up, at most once per
  // `progress_every` (and once when the catch-up reaches its target). Must be quick.
  std::function<void(const CatchUpProgress&)> on_progress;
  std::chrono::milliseconds progress_every = std::chrono::seconds(1);
  // The free-space floor (eventstore/disk_space.h): while the volume holding `path` has
  // fewer bytes available, the follower applies nothing (the views lag, answer as of their
  // position, and catch up once space is freed) rather than fail on a full disk. 0: none.
  uint64_t min_free_bytes = 0;
};

// A change announcement (Server-Sent Events): view name, key, position.
struct ViewChange {
  std::string view;
  std::string key;
  uint64_t position = 0;
};

// What a runner holds in memory (ViewRunner::Memory), for the memory budget and /metrics.
struct ViewsMemory {
  eventstore::RocksMemory db;    // the views database
  uint64_t person_records = 0;   // person records cached
  uint64_t person_bytes = 0;     // their bytes with their folds' states (memory_estimate.h), from a sample
  uint64_t total() const { return db.total() + person_bytes; }
};

// Counters for /metrics (read from any thread).
struct RunnerMetrics {
  std::atomic<uint64_t> events_applied{0};
  std::atomic<uint64_t> batches_written{0};
  std::atomic<uint64_t> failures{0};        // 1 once the runner stopped on a poison event
  std::atomic<uint64_t> last_batch_micros{0};
};

class ViewRunner {
 public:
  // Opens the views database and loads the persisted views and directory. If the stored
  // views cannot be loaded (format change, another set of views, an entry that does not
  // decode), they are dropped and rebuilt from the log — provided every view can Reset;
  // otherwise kCorruption. The views are published at the loaded checkpoint.
  static eventstore::StoreResult<std::unique_ptr<ViewRunner>> Open(
      eventstore::LogReader& log, std::vector<std::unique_ptr<View>> views, RunnerOptions options);
  ~ViewRunner();  // stops the follower thread

  // Applies everything committed up to now (or up to options.until), on the calling
  // thread; returns the position reached. On an event that cannot be applied (it does not
  // decode, or a view throws) nothing of its batch is written or published, failure() is
  // set and kCorruption is returned with that position; every later call fails the same
  // way. Not to be called while the follower thread runs.
  eventstore::StoreResult<uint64_t> CatchUp();
  // Follows the log on a background thread until Stop() (or options.until, or a failure).
  void Start();
  void Stop();
  // Nobody reads these views while the follower runs (a blue-green rebuild before its
  // switch): its catch-ups from far behind then write every RunnerOptions::
  // catch_up_write_every events and publish at their end, as a CatchUp nobody reads does.
  // Set while stopped; Stop leaves it as it is.
  void SetUnread(bool unread);

  // Position of the last applied and published batch. Thread-safe.
  uint64_t Position() const { return position_.load(std::memory_order_acquire); }
  // The current (or last) catch-up's progress. Thread-safe.
  CatchUpProgress Progress() const;
  // Waits until Position() >= position, the runner failed or the timeout passed.
  bool WaitForPosition(uint64_t position, std::chrono::milliseconds timeout) const;
  // Set when the runner stopped on an event it could not apply (poison event): "position
  // N (Type): why". Empty while healthy. Thread-safe.
  std::string failure() const;
  uint64_t failed_position() const;
  // Why the follower applies nothing now (below the free-space floor), or empty.
  // Thread-safe.
  std::string paused() const;
  const RunnerMetrics& metrics() const;
  // What the runner holds in memory, as of the last batch written (the caches) and now
  // (the database). Thread-safe.
  ViewsMemory Memory() const;
  // After a long catch-up (a start from scratch): puts the views database back in the
  // settings of following the log (a catch-up leaves it in its own until the next batch
  // applied alone), writes its memtables to disk (so the views are durable without the
  // WAL, and the memtables' arenas freed) and returns freed memory to the kernel
  // (eventstore::ReleaseFreeMemory). Only while the runner is not applying.
  eventstore::StoreResult<void> Settle();
  const View* Find(std::string_view name) const;
  template <class V>
  const V* Get(std::string_view name) const { return dynamic_cast<const V*>(Find(name)); }
  // Person records cached (not every person: see RunnerOptions::person_cache); only while
  // the runner is not applying (tests, tools).
  size_t CachedPeople() const;
  // The person's record as of Position(), from the cache or the views database; nullopt
  // for a person not registered. Only while the runner is not applying (tests, tools).
  eventstore::StoreResult<std::optional<PersonRecord>> FindPerson(std::string_view person_id) const;
  // The measure-start index (FORMAT.md, "index/"), kept with the views on every path (live,
  // rebuild, replica): calls `visit` with the person id of every isolation or quarantine
  // order starting on a day in [from, to) (nullopt: every day from `from` on), once per
  // person and day, in day order. As of the last batch written: only while the runner is
  // not applying (tools, or a what-if holding the live views still).
  eventstore::StoreResult<void> ForEachMeasureStart(domain::Date from, std::optional<domain::Date> to,
                                                    const std::function<void(std::string_view person)>& visit) const;
  // PersonRegistered events applied (up to Position() while the runner is not applying).
  // Thread-safe.
  uint64_t RegisteredPeople() const;
  // Called after each published batch, on the runner thread, with the keys it changed (none,
  // when no view changed: the position still moved); must be quick. Register before Start().
  void OnChanges(std::function<void(const std::vector<ViewChange>&)> listener);

 private:
  ViewRunner() = default;
  class Impl;
  std::unique_ptr<Impl> impl_;
  std::atomic<uint64_t> position_{0};
};

struct RebuildOptions {
  std::string path;              // must not exist or be empty
  uint64_t until = 0;            // last position to apply; 0: everything committed now
  // Events per batch. A rebuild nobody reads writes every RunnerOptions::
  // catch_up_write_every events whatever the batch (Defer), its people in a spill until
  // the end (people_spill.h), as serve's start from scratch does: smaller batches only hold
  // less memory. 2^17 (before session 20) skipped the spill, and held ~690 MiB at the
  // 1:100 whole history against ~250 MiB (docs/benchmarks.md).
  size_t max_batch = 4096;
  std::shared_ptr<const domain::RuleBook> rules;
  bool read_ahead = true;  // RunnerOptions::read_ahead
  size_t read_threads = 2;  // RunnerOptions::read_threads
  size_t person_cache = RunnerOptions::kDefaultPersonCache;  // RunnerOptions::person_cache
  size_t person_cache_bytes = 0;                              // RunnerOptions::person_cache_bytes
  ViewsDbOptions db;                                          // RunnerOptions::db
  size_t partitions = RunnerOptions::kDefaultPartitions;     // RunnerOptions::partitions
  size_t threads = 0;                                         // RunnerOptions::threads
  std::function<void(const CatchUpProgress&)> on_progress;    // RunnerOptions::on_progress
};

// Builds fresh views from position 1 into an empty views database (replay, verify, tests)
// and returns the runner holding them, stopped at `until` (or at the committed position).
// Nothing is published anywhere else: the runner is only what the caller does with it.
eventstore::StoreResult<std::unique_ptr<ViewRunner>> Rebuild(eventstore::EventStore& store,
                                                             std::vector<std::unique_ptr<View>> views,
                                                             RebuildOptions options);

}  // namespace caseledger::projections
