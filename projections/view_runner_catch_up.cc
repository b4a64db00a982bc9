// ViewRunner's catch-up with the log (one batch at a time, reading ahead, or in the
// pipeline's two stages) and its follower thread.
#include "projections/view_runner_impl.h"
#include "projections/views_layout.h"

#include "projections/projections_logger.h"
#include "eventstore/disk_space.h"

#include <cstdint>
#include <filesystem>
#include <future>
#include <optional>
#include <thread>

namespace caseledger::projections {

StoreResult<uint64_t> ViewRunner::Impl::CatchUp() {
  catch_up_from.store(position.load(std::memory_order_relaxed), std::memory_order_relaxed);
  catch_up_started_ns.store(std::chrono::steady_clock::now().time_since_epoch().count(), std::memory_order_relaxed);
  last_report = std::chrono::steady_clock::now();
  reported = false;
  // Listeners are registered before Start (OnChanges): the views learn here, before they
  // apply anything, whether their changed keys will be asked for.
  for (auto& view : views) view->AnnounceChanges(!listeners.empty());
  for (;;) {
    uint64_t at = position.load(std::memory_order_relaxed);
    if (failed.load()) {
      std::lock_guard lock(mu);
      return StoreError(StoreErrorCode::kCorruption, failure, 0, failed_at);
    }
    uint64_t target = store.CommittedPosition();
    if (options.until != 0) target = std::min(target, options.until);
    catch_up_target.store(target, std::memory_order_relaxed);
    // The reader Open started, if it reads from here: this round goes as far as it reads.
    if (early_reader && early_reader->from() != at + 1) early_reader.reset();
    if (early_reader) target = std::min(target, early_reader->to());
    // Under a steady flow of commits the target keeps moving: let Stop() in between.
    if (at >= target || stopping.load()) {
      if (reported && at >= target) {
        ReportProgress(true);
        ProjectionsLog()->info("views database: {}; the catch-up's spill: {} MiB written, {} records read back",
                               db->WriteSummary(), pipeline ? pipeline->SpillFileBytes() >> 20 : 0,
                               pipeline ? pipeline->SpillReads() : 0);
      }
      return at;
    }
    // Reading ahead pays only over several batches (a rebuild, a start far behind);
    // following the log live, a batch at a time, stays on this thread. A log shorter than
    // a batch is not cut up: Oct-Dec 2020 at 1:100 (61k events) in four batches took about
    // a quarter more CPU time than in one (each batch writes every person and patient it
    // changed), and was no faster on this 2-core machine under load.
    if (options.read_ahead && !options.remote_log && target - at > options.max_batch) {
      auto reached = CatchUpReadingAhead(at, target);
      if (!reached) return reached.error();
      if (*reached < target && !failed.load()) return *reached;
      continue;
    }
    early_reader.reset();
    // Applying batch by batch (following the log): in the following settings again, if a
    // catch-up left the database in its own (CatchUpReadingAhead).
    if (auto set = db->CatchingUp(false); !set) ProjectionsLog()->warn("{}", set.error().message);
    auto read = ReadDecodedInto(store, at + 1, std::min<uint64_t>(options.max_batch, target - at), read_batch);
    if (!read) return read.error();
    if (read_batch.empty()) return at;
    auto applied = ApplyBatch(read_batch);
    // A large batch (a short log caught up in one) does not keep its memory for the small
    // live ones.
    if (read_batch.envelopes.size() > kKeptReadBatch) read_batch = DecodedBatch{};
    if (!applied) return applied.error();
    if (!*applied) continue;  // reported by the failed check above
  }
}

StoreResult<uint64_t> ViewRunner::Impl::CatchUpReadingAhead(uint64_t at, uint64_t target) {
  // The views database in its catch-up settings (ViewsDb::CatchingUp), until the runner
  // applies batch by batch again (CatchUp) or settles (Settle): not at this catch-up's end,
  // where it rewrote the OPTIONS file (~4 syncs) of every rebuild, whose views are then only
  // read (docs/benchmarks.md, session 22).
  if (auto set = db->CatchingUp(true); !set) return set.error();
  std::unique_ptr<LogPrefetcher> early = std::move(early_reader);
  std::optional<LogPrefetcher> started;
  LogPrefetcher& reader = early && early->from() == at + 1 && early->to() == target
                              ? *early
                              : started.emplace(store, at + 1, target, options.max_batch, options.read_depth,
                                                              options.read_threads);
  if (pipeline) return CatchUpOverlapped(reader);
  while (!stopping.load()) {
    auto batch = reader.Next();
    if (!batch) return batch.error();
    if (batch->empty()) break;  // the range is done, or the log had nothing more
    auto applied = ApplyBatch(*batch);
    if (!applied) return applied.error();
    if (!*applied) break;  // failed: CatchUp reports it
    reader.Recycle(std::move(*batch));
  }
  return position.load(std::memory_order_relaxed);
}

StoreResult<uint64_t> ViewRunner::Impl::CatchUpOverlapped(LogPrefetcher& reader) {
  // held[0]: folded, its views not applied yet; held[1]: the batch folded meanwhile. A
  // deque keeps their addresses (the pipeline holds them) while the front is popped.
  std::deque<DecodedBatch> held;
  std::optional<StoreError> read_error;
  std::optional<DecodedBatch> invalid;  // read, not applicable: reported once the batch before is written
  // Reads the batch after the held ones; true when it can be folded.
  auto read = [&](uint64_t expected) {
    auto batch = reader.Next();
    if (!batch) {
      read_error = batch.error();
      return false;
    }
    if (batch->empty()) return false;
    if (Invalid(*batch, expected)) {
      invalid = std::move(*batch);
      return false;
    }
    held.push_back(std::move(*batch));
    return true;
  };
  // The views database's write of a batch (its memtable inserts: ~a third of what the
  // runner's thread did between two rounds of the pool) runs on a thread of its own while
  // the pool applies the next batch's views and folds the one after: "written behind".
  // Each write is still one batch with its checkpoint. The views are then a batch past
  // what is stored, so nothing is published meanwhile; every kPublishEvery-th batch, and
  // the last, is written before the next round (Commit) and published. Records read back
  // from the database during a round (with their person folds' states) were all written
  // before it (the person cache keeps the records of the batch written behind and of the
  // one after it: Advance, BatchPipeline::Evict).
  //
  // Nobody reads views that catch up before the follower starts (serve's start, a rebuild:
  // CatchUp called directly, no change listener), nor those of a follower set unread (a
  // blue-green rebuild before its switch: SetUnread): they are published once, at the end.
  // Each publication froze every view's table for readers, so that the batches after it
  // copied each entry, shard and bucket they touched again (copy on write) and the frozen
  // copies were freed a publication later: ~8 % of a start from scratch at 1:1 density
  // (docs/benchmarks.md, 2026-12-03 late night), and every fourth write stopped the pool.
  constexpr size_t kPublishEvery = 4;
  const bool unread = (!following.load() || this->unread.load()) && listeners.empty();
  const size_t publish_every = unread ? SIZE_MAX : kPublishEvery;
  // Such a catch-up also writes only every options.catch_up_write_every events (Defer;
  // with batches at least that large, every batch as before):
  // each batch of 4,096 events wrote every person, patient and figure it changed, and the
  // same people come back batch after batch (swabbed, reported on, isolated, released over
  // a few days). Batch by batch the entries changed stay dirty in memory; at every
  // write the pipeline is drained (no batch folded ahead: BatchPipeline::Flush) and they
  // are written once each with the checkpoint.
  const bool deferring = unread && options.catch_up_write_every > options.max_batch;
  pipeline->Defer(deferring);
  // From scratch (nothing in the views database yet), the person entries go to a spill
  // until the end (people_spill.h says why). Meanwhile the writes carry no checkpoint (the
  // first one deletes it): the views database holds no person, so a crash before the end
  // leaves a database the next open empties (ViewsRecovery) and rebuilds from scratch.
  const bool spilling = deferring && position.load(std::memory_order_relaxed) == 0;
  if (spilling) {
    if (auto spilled = pipeline->SpillPeople(options.path + ".spill"); !spilled) return spilled.error();
  }
  struct Undefer {
    BatchPipeline& pipeline;
    ~Undefer() {  // after any write behind was joined (`writing` is declared below)
      pipeline.EndSpill();
      pipeline.Defer(false);
      pipeline.FlushStored();
      pipeline.ReleaseBuffers();  // sized by this catch-up's batches; live ones are small
    }
  } undefer{*pipeline};
  const DecodedBatch* indexing = nullptr;  // the batch whose views the next Step applies
  const std::function<void()> index_beside = [&] { IndexRun(*indexing); };
  bool accumulating = false;  // wbs[side] holds the direct writes of batches not written yet
  if (!stopping.load() && read(position.load(std::memory_order_relaxed) + 1)) pipeline->Fold(held.back(), *db);
  // One write batch per side: cleared, each keeps its buffer, which otherwise grew from
  // nothing at every step (page faults were ~3 % of a rebuild's CPU).
  ViewsDb::Batch wbs[2];
  size_t side = 0, since_publish = 0;
  // The write behind, when valid (declared after wbs: joined first), of a batch of
  // writing_events up to writing_last; the batch itself is recycled as the write starts
  // (the write batch holds copies: a decoded batch is ~100 MiB at 2^17 events).
  std::future<StoreResult<void>> writing;
  std::chrono::steady_clock::time_point writing_started;
  uint64_t writing_last = 0;
  size_t writing_events = 0;
  auto join = [&]() -> StoreResult<void> {
    StoreResult<void> written = writing.get();
    if (!written) {
      // The working state is ahead of what is stored; only a reopen can realign them.
      Fail(writing_last, written.error().message);
      return written.error();
    }
    pipeline->FlushStored();
    Written(writing_last, writing_events, writing_started, true);
    return {};
  };
  // Starts writing `wb` behind, with the checkpoint of `applied` (covering `events`), and
  // lets the batch go (the write batch holds copies).
  auto write_behind = [&](ViewsDb::Batch& wb, const DecodedBatch& applied, size_t events,
                          std::chrono::steady_clock::time_point started) {
    writing_last = applied.envelopes.back().position;
    writing_events = events;
    writing_started = started;
    if (spilling) {
      wb.Delete(layout::kCheckpointKey);
    } else {
      PutCheckpoint(wb, writing_last);
    }
    SampleRecords(applied);  // its records are all cached until the write is done
    if (spilling) {
      // Nothing reads the views database before the end (the people are in the spill, the
      // views are published at the end): a table file ingested, not memtable inserts.
      writing = std::async(std::launch::async, [this, &wb] { return db->WriteAsTable(wb, options.path + ".spill"); });
    } else {
      writing = std::async(std::launch::async, [this, &wb] { return db->Write(wb, options.sync); });
    }
    side ^= 1;
    reader.Recycle(std::move(held.front()));
    held.pop_front();
  };
  while (!held.empty()) {
    const auto started = std::chrono::steady_clock::now();
    const DecodedBatch& applied = held.front();
    // Deferring: the batch that brings what is not written to catch_up_write_every events
    // is written, with nothing folded ahead of it.
    const bool flush = deferring && pipeline->Deferred() >= options.catch_up_write_every;
    const DecodedBatch* next = nullptr;
    bool more = false;
    if (held.size() == 1 && !stopping.load() && !pipeline->FoldFailed() && !read_error && !invalid &&
        read(applied.envelopes.back().position + 1)) {
      more = true;
      if (!flush) next = &held.back();
    }
    ViewsDb::Batch& wb = wbs[side];
    if (!accumulating) wb.Clear();
    indexing = &applied;
    index_batch.Clear();  // a Step that applies no views runs no index: nothing appended
    // The index's entries on the pool beside the views (the runner's thread is the one
    // every round waits for); a batch that fails is not written, nor its index.
    const std::optional<BatchPipeline::Failure> failed = pipeline->Step(next, *db, wb, index_beside);
    if (!failed) wb.Append(index_batch);
    // Deferring, a write runs behind the batches folded and applied after it until the
    // next Flush (which writes the following 2^17 events, much later) or the end: the
    // pipeline keeps what it carries cached meanwhile (FlushStored). Joined at the next
    // step, the runner waited for it at every write: a write of 2^17 events' entries
    // takes as long as several batches' folds and views (at 1:1 density, a sixth of the
    // catch-up's wall time was that wait, with the other core idle).
    if (writing.valid() && !(deferring && next != nullptr && !failed)) {
      if (auto joined = join(); !joined) return joined.error();
    }
    if (failed) {
      Fail(applied.envelopes[failed->index].position, failed->why);
      return position.load(std::memory_order_relaxed);
    }
    if (deferring) {
      if (next != nullptr) {
        // Not written yet: its direct writes stay in wb, its changes dirty in memory. The
        // caches may forget what is written (not what a write behind still carries).
        accumulating = true;
        pipeline->Evict(PersonCacheLimit());
        reader.Recycle(std::move(held.front()));
        held.pop_front();
        continue;
      }
      const size_t events = pipeline->Deferred();
      const auto flushing = std::chrono::steady_clock::now();
      // From scratch, the views' entries are written once, by the last Flush: nothing reads
      // the views database before the end (the writes carry no checkpoint), so an entry
      // written at one Flush was only overwritten or deleted by a later one. A GP's report
      // days were each written and then deleted as the 7 days kept moved on: 458 k of the
      // views' 949 k entries over 2 M events at 1:1, 218 k deletes (docs/benchmarks.md,
      // session 28). At the end too, the views go after the people (below).
      if (auto flushed = pipeline->Flush(wb, /*views=*/!spilling)) {
        Fail(applied.envelopes.back().position, flushed->why);
        return position.load(std::memory_order_relaxed);
      }
      accumulating = false;
      if (more) {
        // Written behind while the partitions fold the next batch alone.
        write_behind(wb, applied, events, started);
        pipeline->Fold(held.back(), *db);
        continue;
      }
      // The last batch: written and published, then the caches back within their budget
      // (nothing is written behind now: joined above).
      metrics.events_applied.fetch_add(events - applied.envelopes.size(), std::memory_order_relaxed);
      pipeline->FlushStored();
      // The batch given back now, its records sampled (nothing below changes the caches):
      // given back after the checkpoint, it was freed by its reader while the reader's
      // destructor joined it, on this thread's path (~2 ms of a short rebuild's end).
      const uint64_t last = applied.envelopes.back().position;
      const size_t last_events = applied.envelopes.size();
      SampleRecords(applied);
      reader.Recycle(std::move(held.front()));
      held.pop_front();
      // The end's steps timed for the log (serial wall time of a catch-up).
      auto since = [](std::chrono::steady_clock::time_point t) {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
      };
      const double flush_s = since(flushing);
      double tables_s = 0, unspill_s = 0, unspill_wait_s = 0, ingest_s = 0;
      if (pipeline->Spilling()) {
        // Every person's latest entry ingested as table files (UnspillPeople), on a thread
        // of its own, while this one has the views write all their entries (Flush on the
        // pool: the two touch nothing in common) and the batches kept with them ingested
        // as a table; then the checkpoint alone. One after the other, the views' Persist
        // (the municipalities' alone at the end: ~27 ms at 1:100 whole history) and the
        // unspill's serial steps (its runs sorted, its files synced and ingested) left a
        // core idle for a quarter to a half of a rebuild's end (docs/benchmarks.md,
        // session 31).
        // This batch holds every entry a catch-up shorter than catch_up_write_every changed
        // (ops/bench --quick's: ~14 k), whose memtable inserts were the longest step of its
        // end, on this thread alone (session 21): a table file too, in a directory of its
        // own. The views' and the people's tables share no key, so the order of their
        // table files does not matter. All of the end's table files (the views', the
        // people's, the GP rows') are held and ingested at once once both are done
        // (ViewsDb::HoldIngestions): one ingestion's syncs rather than three's, on the path
        // of the end (docs/benchmarks.md, session 32); the checkpoint after it. A crash
        // before the checkpoint leaves a database without one, emptied and rebuilt at the
        // next open, as before.
        const std::string dir = options.path + ".tables";
        std::error_code ec;
        std::filesystem::create_directories(dir, ec);
        const bool hold = !ec;
        if (hold) db->HoldIngestions(dir);
        auto unspilling = std::async(std::launch::async, [this, &unspill_s, since] {
          const auto began = std::chrono::steady_clock::now();
          auto done = pipeline->UnspillPeople(*db);
          unspill_s = since(began);
          return done;
        });
        auto step = std::chrono::steady_clock::now();
        StoreResult<void> kept;
        if (auto flushed = pipeline->Flush(wb, /*views=*/true, /*partitions=*/false)) {
          kept = StoreError(StoreErrorCode::kCorruption, flushed->why);
        } else if (!hold) {
          kept = StoreError(StoreErrorCode::kIo, "cannot create " + dir + ": " + ec.message());
        } else if (kept = db->WriteAsTable(wb, dir); kept) {
          kept = db->FlushTables(dir);
        }
        tables_s = since(step);
        step = std::chrono::steady_clock::now();
        auto unspilled = unspilling.get();
        unspill_wait_s = since(step);
        if (hold) {
          // Nothing ingested if either failed: the held files are dropped.
          step = std::chrono::steady_clock::now();
          auto ingested = db->IngestHeld(kept && unspilled);
          if (kept && unspilled) kept = std::move(ingested);
          ingest_s = since(step);
        }
        std::filesystem::remove_all(dir, ec);
        for (const StoreResult<void>* done : {&kept, &unspilled}) {
          if (!*done) {
            Fail(last, done->error().message);
            return position.load(std::memory_order_relaxed);
          }
        }
      }
      const auto committing = std::chrono::steady_clock::now();
      auto committed = Commit(last, last_events, wb, started);
      if (!committed) return committed.error();
      ProjectionsLog()->info(
          "the catch-up's last write: the last Flush {:.2f} s, the views' entries and table files {:.2f} s beside "
          "the people unspilled {:.2f} s (then waited for {:.2f} s), their table files ingested {:.2f} s, the "
          "checkpoint {:.2f} s",
          flush_s, tables_s, unspill_s, unspill_wait_s, ingest_s, since(committing));
      continue;
    }
    if (next != nullptr && ++since_publish < publish_every) {
      write_behind(wb, applied, applied.envelopes.size(), started);
      continue;
    }
    since_publish = 0;
    auto committed = Commit(applied, wb, started);
    if (!committed) return committed.error();
    reader.Recycle(std::move(held.front()));
    held.pop_front();
  }
  if (invalid) Validate(*invalid);  // fails, at the position after the last one written
  if (read_error) return *read_error;
  return position.load(std::memory_order_relaxed);
}

void ViewRunner::Impl::Follow() {
  auto last_batch = std::chrono::steady_clock::time_point{};
  // The disk looked at once per eventstore::kFreeSpaceRecheck, not before every batch (a
  // statvfs per 10 ms batch was ~2 % of this thread under the commands' load); below the
  // floor, at every poll. What a batch of the views writes is small beside the floor.
  eventstore::FreeSpaceGate free_space(options.path, options.min_free_bytes, "the views");
  while (!stopping.load()) {
    if (auto low = free_space.Check(0)) {
      {
        std::lock_guard lock(mu);
        if (paused.empty()) ProjectionsLog()->error("views paused: {}", low->message);
        paused = low->message;
      }
      std::this_thread::sleep_for(options.poll);
      continue;
    }
    if (std::lock_guard lock(mu); !paused.empty()) {
      ProjectionsLog()->info("views resumed: free space is back above the floor");
      paused.clear();
    }
    if (options.live_interval.count() > 0) last_batch = std::chrono::steady_clock::now();
    const uint64_t before = position.load(std::memory_order_relaxed);
    auto reached = CatchUp();
    if (failed.load()) return;
    if (!reached) {
      ProjectionsLog()->warn("views cannot read the log: {}", reached.error().message);
      std::this_thread::sleep_for(options.poll);
      continue;
    }
    if (options.until != 0 && *reached >= options.until) return;
    // Commits that come within live_interval of a batch wait for the rest of it, slept here
    // before looking at the store: under a flow of commits the next batch then starts without
    // a wait on the store's notification (a futex wake by the commit thread and a sleep and a
    // wake-up of this thread per batch, when the wait came first and the rest of the interval
    // after it). After a look that found nothing, the wait below ends at the next commit,
    // applied at once, as before.
    if (options.live_interval.count() > 0 && *reached > before) {
      const auto due = last_batch + options.live_interval;
      if (std::chrono::steady_clock::now() < due) std::this_thread::sleep_until(due);
    }
    store.WaitForPosition(*reached + 1, options.poll);
  }
}

}  // namespace caseledger::projections
