// Private to projections/: ViewRunner's state and steps (view_runner.h), shared by
// view_runner.cc (opening, applying and committing a batch, publishing) and
// view_runner_catch_up.cc (catching up with the log and following it).
#pragma once

#include "projections/view_runner.h"

#include "projections/batch_pipeline.h"
#include "projections/log_prefetch.h"
#include "projections/views_db.h"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace caseledger::projections {

using eventstore::StoreError;
using eventstore::StoreErrorCode;
using eventstore::StoreResult;

class ViewRunner::Impl {
 public:
  Impl(eventstore::LogReader& s, std::vector<std::unique_ptr<View>> v, RunnerOptions o,
       std::atomic<uint64_t>& pos)
      : store(s), views(std::move(v)), options(std::move(o)), directory(options.rules), position(pos) {}

  StoreResult<void> Load();
  StoreResult<uint64_t> CatchUp();
  // Applies one batch read from the log; false (and failure set) on a poison event.
  StoreResult<bool> ApplyBatch(const DecodedBatch& batch);
  // ApplyBatch's steps, in order. Validate: positions follow the checkpoint and every event
  // decoded (else failure set, false). Then the batch is folded into `wb`, by the pipeline
  // or by ApplySequential, the reference way, one event at a time on this thread:
  // FetchPeople, FoldSequential (effects, views, person records), PersistViews, WritePeople
  // (each changed person entry once: person_entry.h). IndexBatch adds the measure-start index. Commit writes `wb`
  // with the checkpoint, then Advance evicts, publishes, reports progress and counts. A step
  // that returns false has set the failure (Fail).
  bool Validate(const DecodedBatch& batch);
  // Validate's check of a batch that starts at `expected`: empty, or why it cannot be
  // applied and at which position.
  std::optional<std::pair<uint64_t, std::string>> Invalid(const DecodedBatch& batch, uint64_t expected) const;
  StoreResult<bool> ApplySequential(const DecodedBatch& batch, ViewsDb::Batch& wb);
  bool FoldSequential(const DecodedBatch& batch, PrefixedSink& sink);
  bool PersistViews(PrefixedSink& sink, uint64_t last);
  bool WritePeople(ViewsDb::Batch& wb, uint64_t last);
  StoreResult<bool> Commit(const DecodedBatch& batch, ViewsDb::Batch& wb,
                           std::chrono::steady_clock::time_point started);
  // Commit of a batch of `events` up to `last` whose records were sampled (SampleRecords)
  // before it was let go.
  StoreResult<bool> Commit(uint64_t last, size_t events, ViewsDb::Batch& wb,
                           std::chrono::steady_clock::time_point started);
  // Puts the checkpoint `last` in `wb` (Commit, a write behind), with the meta the first
  // time in a database created by Open (ViewsRecovery::Recovered::meta_unwritten).
  void PutCheckpoint(ViewsDb::Batch& wb, uint64_t last);
  void Advance(const DecodedBatch& batch, std::chrono::steady_clock::time_point started);
  // Advance after SampleRecords, for the batch of `events` up to `last`. `behind`: it was
  // written while the views applied the next one (CatchUpOverlapped): nothing is published
  // (the views are past it), and the next batch's records stay cached.
  void Written(uint64_t last, size_t events, std::chrono::steady_clock::time_point started, bool behind);
  // The measure-start index's entries for the batch (its orders' keys, the registrations'
  // count), into `wb`: one pass over the batch in log order, whatever the partitions.
  void IndexBatch(const DecodedBatch& batch, ViewsDb::Batch& wb);
  // IndexBatch's entries alone, sorted, into index_batch (any thread: the catch-up runs it on
  // the pool, beside the views: BatchPipeline::Step), then appended to `wb` by the runner.
  void IndexRun(const DecodedBatch& batch);
  void Publish(uint64_t last);
  // Puts the records of the batch's people in the directory's cache (those not cached are
  // read from the database in one MultiGet). False (and failure set) when one does not
  // decode.
  StoreResult<bool> FetchPeople(const DecodedBatch& batch);
  // CatchUp's reading ahead: applies [at + 1, target] as a LogPrefetcher reads it (the
  // one Open started, `early_reader`, when it reads that range).
  StoreResult<uint64_t> CatchUpReadingAhead(uint64_t at, uint64_t target);
  // CatchUpReadingAhead with the pipeline's two stages: batch N+1 folded while the views
  // apply batch N.
  StoreResult<uint64_t> CatchUpOverlapped(LogPrefetcher& reader);
  void Fail(uint64_t at, std::string why);
  void Follow();

  eventstore::LogReader& store;
  std::vector<std::unique_ptr<View>> views;
  RunnerOptions options;
  PersonDirectory directory;  // the sequential way's (partitions == 0)
  // The sequential way's person folds (View::PersonFolds): (view, its fold), at most 32.
  std::vector<std::pair<size_t, PersonFold*>> folds;
  std::vector<PersonFold*> fold_list;  // the same folds alone, for the person entries (person_entry.h)
  std::unique_ptr<BatchPipeline> pipeline;  // partitions >= 1
  std::atomic<uint64_t>& position;
  std::shared_ptr<ViewsDb> db;  // shared with the views' StoredEntries and their pinned snapshots
  // Started by Open before the views database is opened, when the database is created for
  // a catch-up from scratch reading ahead (a rebuild, serve's first start): the log's first
  // batches are read while RocksDB creates and syncs its files. The first CatchUp takes
  // it (or drops it, when it starts elsewhere).
  std::unique_ptr<LogPrefetcher> early_reader;
  bool created = false;         // Open created the views database for a catch-up (ViewsRecovery::Options::created)
  bool meta_unwritten = false;  // PutCheckpoint
  RunnerMetrics metrics;
  std::vector<std::function<void(const std::vector<ViewChange>&)>> listeners;
  std::vector<Effect> effects;  // scratch, one event's
  // FoldSequential's people whose record or fold state changed, each once (repeats dropped at
  // its end), for the folds' Persist and WritePeople; the ids
  // view the batch's envelopes. Records are not evicted during a batch (FetchPeople pinned
  // them), so their addresses identify them.
  std::vector<std::pair<const PersonRecord*, std::string_view>> dirty_people;
  // Their entries (PersonDirectory::TakeToWrite, in PersistViews), for WritePeople.
  std::vector<PersonDirectory::ToWrite> to_write;
  std::vector<std::string> missing;  // FetchPeople's scratch: keys of people not cached
  ViewsDb::Batch index_batch;        // IndexBatch's entries, sorted before they join `wb`
  // CatchUp's batch, read into again each time (ReadDecodedInto): its envelopes' strings and
  // its vectors keep their memory from one live batch to the next.
  DecodedBatch read_batch;
  static constexpr size_t kKeptReadBatch = 4096;
  // FetchPeople's result: the record of each envelope's person when it was cached (null:
  // read from the database, not registered yet, or not a person stream; ApplyBatch then
  // looks it up), so that most events look their person up once.
  std::vector<const PersonRecord*> records;
  // The caches' bounds in bytes (RunnerOptions::person_cache_bytes) and what they hold
  // (Memory). SampleRecords measures records of the batch just written (before Evict);
  // record_bytes is their running mean, 0 until the first sample. Runner thread only, but
  // the atomics, which Memory reads from any thread.
  void SampleRecords(const DecodedBatch& batch);
  size_t PersonCacheLimit() const;
  void NoteMemory();
  double record_bytes = 0;
  // Both databases' table readers (records_give_way_to_tables), measured at most every
  // kTablesEvery: they move only with flushes and compactions, and RocksDB's aggregated
  // properties at every batch were ~4 % of the views' thread under commands (a batch of a
  // few events each; docs/benchmarks.md, 2026-12-04/05). Runner thread only.
  static constexpr std::chrono::milliseconds kTablesEvery{250};
  size_t TablesBytes() const;
  mutable size_t tables_bytes = 0;
  mutable std::chrono::steady_clock::time_point tables_measured{};
  mutable bool tables_known = false;
  size_t events_since_sample = 0;  // events written since SampleRecords last measured
  std::atomic<uint64_t> cached_people{0}, cached_people_bytes{0};
  // Registrations applied and written (index/registered), read by what-ifs.
  std::atomic<uint64_t> registered{0};

  mutable std::mutex mu;
  mutable std::condition_variable cv;
  std::string failure;  // guarded by mu
  std::string paused;   // guarded by mu: why the follower applies nothing now
  uint64_t failed_at = 0;
  std::atomic<bool> failed{false};

  std::thread follower;
  std::atomic<bool> stopping{false};
  // Between Start and Stop: the views are read while the follower catches up (a rebuild's
  // runner, a start from scratch, run CatchUp before anyone reads or listens).
  std::atomic<bool> following{false};
  std::atomic<bool> unread{false};  // SetUnread: followed, but read by nobody yet
  // The last position written with its checkpoint (a catch-up writes batches it does not
  // publish: CatchUpOverlapped); `position` is the last published.
  std::atomic<uint64_t> stored_position{0};

  // The catch-up under way (Progress): where it started, when, and what it runs to.
  std::atomic<uint64_t> catch_up_from{0}, catch_up_target{0};
  std::atomic<int64_t> catch_up_started_ns{0};
  std::chrono::steady_clock::time_point last_report{};
  bool reported = false;  // this catch-up was long enough to report: report its end too
  CatchUpProgress Progress() const;
  void ReportProgress(bool force);
};

}  // namespace caseledger::projections
