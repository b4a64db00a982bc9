// Private to projections/: how the view runner applies a batch of events on every core.
//
// Why: applied one event at a time on one thread (look the person up, compute the
// effects, apply to every view, then to the person record) a rebuild ran at 0.16-0.24x a
// raw scan of the log at 1:100 and 0.09x at 1:1, most of it in the person fold and the
// views, one after the other, on one core. The work splits two ways without changing
// what any view sees:
//
// 1. By person. Event i of a person stream goes to partition hash(person) % P. Each
//    partition folds its own people in log order with a PersonDirectory of its own (their
//    records, their cache, their reads from the views database, their encoding for the
//    batch): for each of its events it keeps the record as it was BEFORE the event
//    (shared, copy on write, so the partition can go on changing the person; the copy
//    shares the person's swab history, SwabHistory) and the effects of the event on the
//    aggregate figures. A person's events are all in one
//    partition, so their fold is exactly the sequential one, whatever P.
// 2. By view. Every view then applies the whole batch in log order, from those saved
//    records and effects, on a thread of its own: the views do not share state, and each
//    sees exactly the sequence (event, record before, effects) the sequential runner gave
//    it. Cross-person events keep their meaning because the views, not the partitions,
//    hold what spans people (a class and its quarantine orders, a GP and its patients
//    moving between GPs, a municipality's days changed by a correction) and apply it in
//    log order. What of a view is one person's alone (the GP view's patient rows: one GP
//    at a time) is folded in the partitions instead, by the view's person folds
//    (View::PersonFolds, one per partition), right after the person's record: the view
//    then applies only what spans people, and learns per event whether its fold changed
//    something (LogEvent::fold_changed). The GP view was the longest task of a batch
//    (docs/benchmarks.md), most of it its patients' rows.
//
// 3. By batch, in a catch-up: the partitions fold batch N+1 while the views apply batch N
//    (Fold / Step), in one round of the pool. The records the views read are the
//    records-before of their own batch (copy on write), so the fold running ahead changes
//    nothing they see; the records batch N+1 changed stay cached until it is written.
//
// The entries each partition and view changed are put in one WriteBatch with the
// checkpoint by the runner, as before. An event a partition or a view cannot apply stops
// the batch at the first such event in log order (what the sequential runner reports).
#pragma once

#include "domain/string_hash.h"
#include "projections/log_prefetch.h"
#include "projections/people_spill.h"
#include "projections/person_directory.h"
#include "projections/task_pool.h"
#include "projections/view.h"
#include "projections/views_db.h"

#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>

#include <cstddef>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace caseledger::projections {

// Puts a view's entries under "<view>/" in a batch.
class PrefixedSink final : public PersistSink {
 public:
  explicit PrefixedSink(ViewsDb::Batch& batch) : batch_(batch) {}
  void SetPrefix(std::string_view view) { prefix_.assign(view).append("/"); }
  void Put(std::string_view key, std::string_view value) override { batch_.Put(Key(key), value); }
  void Delete(std::string_view key) override { batch_.Delete(Key(key)); }

 private:
  const std::string& Key(std::string_view key) {
    key_.assign(prefix_).append(key);
    return key_;
  }
  ViewsDb::Batch& batch_;
  std::string prefix_, key_;
};

class BatchPipeline {
 public:
  // `views` stay the caller's (the runner's) and outlive the pipeline.
  // `path` (the views database's) is named in the message of a record that does not decode.
  BatchPipeline(std::vector<std::unique_ptr<View>>& views, std::shared_ptr<const domain::RuleBook> rules,
                size_t partitions, size_t threads, std::string path);
  // Once the views are attached (View::Attach), before the first batch: takes the views'
  // person folds (View::PersonFolds, one per partition) and runs them in the partitions.
  void AttachFolds();

  struct Failure {
    size_t index = 0;  // of the event in the batch
    std::string why;   // "<type>: <message>", as the sequential runner says it
  };
  // Applies `batch` (positions checked and every event decoded by the caller) to the
  // partitions and the views, and puts every changed person record and view entry in
  // `out`. Person records not cached are read from `db`. On a failure nothing is put in
  // `out`; the working state is then ahead of what is stored (the runner stops).
  // Not while a batch is folded ahead (Fold without its Step(nullptr, ...)).
  std::optional<Failure> Apply(const DecodedBatch& batch, const ViewsDb& db, ViewsDb::Batch& out);

  // Overlapped, for a catch-up over many batches (two stages: while the views apply batch
  // N, the partitions fold batch N+1, so that both cores stay busy when one view is longer
  // than the rest):
  //   Fold(b0, db);                     // the partitions alone
  //   Step(&b1, db, out) -> b0's views (and b0's entries in `out`), b1 folded meanwhile;
  //   write `out`, Evict(budget); ...; Step(nullptr, db, out) -> the last batch's views.
  // Each batch stays alive, unmoved, until the Step that applies its views returns. A
  // Step's failure is of the batch whose views it applied (index in that batch): a batch
  // whose fold failed is not folded further, and its views stop before the failing event,
  // so that the first failure in log order is reported, as by Apply. After a failure the
  // pipeline is unusable (the runner stops).
  void Fold(const DecodedBatch& batch, const ViewsDb& db);
  // `beside` (when set) runs once on the pool in the round that applies the views, for the
  // caller's own work over the batch they apply (the runner's index: it ran on the runner's
  // thread between two rounds, while the pool waited). It must not touch the pipeline, and
  // runs whether or not the views fail.
  std::optional<Failure> Step(const DecodedBatch* next, const ViewsDb& db, ViewsDb::Batch& out,
                              const std::function<void()>& beside = {});
  // Whether the batch folded last failed (then Step(nullptr) applies its views up to the
  // failure and reports it; fold nothing after it).
  bool FoldFailed() const;
  // A batch folded and not yet applied by a Step.
  bool Pending() const { return pending_ != nullptr; }

  // Writing deferred (a catch-up nobody reads: ViewRunner's CatchUpOverlapped). While on,
  // a batch's fold and views put in `out` only what they write as they apply (the views'
  // direct deletes); the person records, the folds' rows and the views' entries they
  // changed stay dirty in memory (their records cached, with their folds' states: Evict keeps them) until
  // Flush writes each of them once, however many batches changed it. A person swabbed,
  // reported on and isolated over a few days was written once per 4,096-event batch that
  // touched them (docs/benchmarks.md, 2026-12-04). Switch only while no batch is pending
  // and nothing is deferred.
  void Defer(bool on) { defer_ = on; }
  // Puts every record, fold row and view entry changed since the last Flush (or since
  // Defer(true)) in `out`, each once, as of the last batch applied. REQUIRES: no batch
  // folded ahead (Pending() false), so that nothing of a later batch is written with this
  // checkpoint. On a failure (an entry that does not encode) nothing is put in `out`.
  // Without `views`, the views' entries are left out: they stay dirty in the views
  // (View::Persist is not called) for a later Flush, which writes each once (a catch-up
  // from scratch writes them at its end alone: view_runner_catch_up.cc says why). Without
  // `partitions`, the partitions are left alone (nothing of theirs is written or changed, and
  // the events counted since the last Flush stay counted): a Flush of the views only, which
  // may run while another thread runs UnspillPeople, the two touching nothing in common.
  std::optional<Failure> Flush(ViewsDb::Batch& out, bool views = true, bool partitions = true);
  // A catch-up from scratch while deferring (no person entry in the views database yet):
  // Flush appends the person entries to a spill of each partition's, in files under `dir`
  // (people_spill.h), instead of `out`, and the fold reads back from there; UnspillPeople
  // then puts each person's latest entry in `db` (one table file ingested, no checkpoint:
  // the caller writes it after) and ends the spill; EndSpill drops it. Switch only while no
  // batch is pending and nothing is deferred. Meanwhile the folds that can
  // (PersonFold::RowsAtEnd) write no row at Flush: UnspillPeople makes their rows from the
  // people's last entries and ingests them too, once each.
  eventstore::StoreResult<void> SpillPeople(const std::string& dir);
  eventstore::StoreResult<void> UnspillPeople(ViewsDb& db);
  // Drops the spill: its files are removed on a thread of its own, which the next
  // SpillPeople, WaitSpillRemoved and the destructor wait for. A process that stops
  // meanwhile leaves them to the next open (ViewRunner::Open removes a spill left behind).
  void EndSpill();
  void WaitSpillRemoved();
  // Called on the thread that removes a spill, before it does (tests: a slow disk).
  void BeforeSpillRemoved(std::function<void()> hook) { before_spill_removed_ = std::move(hook); }
  bool Spilling() const { return !spill_dir_.empty(); }
  // People read back from the spill since SpillPeople, and bytes written to its files
  // (kept after its end until the next SpillPeople); the spill's index bytes now.
  size_t SpillReads() const;
  uint64_t SpillFileBytes() const;
  size_t SpillIndexBytes() const;
  // Events folded since the last Flush (0 when not deferring).
  size_t Deferred() const { return deferred_events_; }
  // What the last Flush put in its batch stays protected from Evict (as if unwritten)
  // until the caller says that batch is stored: the catch-up writes it behind while the
  // pipeline folds and applies the batches after it, and a record forgotten before its
  // write lands would be read back from the database as it was before.
  void FlushStored();
  // Gives back the memory of the batches' working buffers (they grow with the largest
  // batch seen; kept between batches so as not to grow again): after a long catch-up.
  void ReleaseBuffers();

  // Forgets the least recently used records (with the folds' states of their people)
  // beyond `budget` in all (split evenly between the partitions); 0: no limit. Each
  // partition forgets at the start of its next task on the pool (a fold, a Flush), or
  // before any call that reads its cache: the same records as at once, off the runner's thread. The records of a batch folded and not yet written stay,
  // and with `applied_unwritten` those of the batch whose views the last Step applied too
  // (its entries not written yet: the runner writes them while the next Step runs).
  void Evict(size_t budget, bool applied_unwritten = false);
  // The record of a person cached (null: not cached or not registered).
  const PersonRecord* Find(std::string_view person_id) const;
  // The bytes of a person's entry cached (record and fold states: memory_estimate.h); 0:
  // not cached.
  size_t CachedBytes(std::string_view person_id) const;
  size_t CachedPeople() const;
  void Clear();
  size_t partitions() const { return parts_.size(); }
  // The views' person folds per partition (AttachFolds): the parts of a person entry.
  size_t folds() const { return fold_views_.size(); }

  // The partition of a person id: of its hash (PersonKeyHash's, as DecodedBatch::persons
  // holds it), from the hash's top bits (a partition's table places its people by the low
  // ones). Stable within a process, all a partition is kept for.
  static size_t PartitionOf(std::string_view person_id, size_t partitions) {
    return PartitionOfHash(HashedId::Of(person_id).hash, partitions);
  }
  static size_t PartitionOfHash(size_t hash, size_t partitions) {
    return partitions <= 1 ? 0 : static_cast<size_t>(((hash >> 32) * partitions) >> 32);
  }

 private:
  struct Slot {
    // What the views get: the record before the event, kept where a view reads more of it
    // than the GP (View::ReadsRecord; held by its partition's PartWork::befores), or the
    // partition's record of the person's GP alone (Part::GpOnly); null: not a person
    // event, or not registered.
    const PersonRecord* record = nullptr;
    uint32_t begin = 0, end = 0;                 // its effects in its partition's list
    uint32_t folded = 0;  // bit k: fold k changed something of the person (fold_changed)
    uint32_t swab = kNoSwab;  // LogEvent::swab: its place in its partition's `swabs`
  };
  static constexpr uint32_t kNoSwab = 0xffffffff;
  struct Part {
    explicit Part(std::shared_ptr<const domain::RuleBook> rules) : directory(std::move(rules)) {}
    PersonDirectory directory;
    std::vector<PersonFold*> folds;  // the views' (fold_views_), this partition's
    std::vector<std::string> missing;  // keys of people not cached (scratch)
    // Ids of people whose stream starts in the batch (scratch).
    absl::flat_hash_set<std::string_view, PersonKeyHash, PersonKeyEq> fresh;
    // A record holding only `gp_id` (and its GP), for the views of an event no view reads
    // more of (Slot::record). Never changed once made: the views of a batch read them on
    // other threads while the partition folds the next one (the map moves its pointers,
    // never the records), nor dropped (a person's entry keeps theirs: StepGpOnly).
    const PersonRecord* GpOnly(const std::string& gp_id);
    absl::flat_hash_map<std::string, std::unique_ptr<const PersonRecord>, domain::StringHash, std::equal_to<>>
        gp_only;
    // Deferred (Defer): ids of the people whose record or fold state changed since the
    // last Flush, each once (PersonDirectory::MarkUnwritten; Evict keeps them cached), and
    // the partition's events folded since. Held inline: as std::strings (a heap block
    // each: a ULID is 26 characters) their allocation, release and sort were ~500
    // instructions an event at 1:1 density (docs/benchmarks.md, session 31).
    std::vector<PersonKey> unwritten;
    size_t unwritten_events = 0;
    std::unique_ptr<PeopleSpill> spill;  // SpillPeople
    std::string spilled;                 // a read back from it (scratch)
    size_t spill_reads = 0;
    uint64_t spill_bytes = 0;            // its file's, once ended
    size_t flushing_events = 0;  // unwritten_events at the last Flush, until FlushStored
    // Evict's share of the partition, applied by the partition's next task on the pool
    // (ApplyEvict); 0: forget everything.
    std::optional<size_t> evict_to;
    void ApplyEvict();
  };
  // One partition's work on one batch.
  struct PartWork {
    std::vector<uint32_t> events;  // indices in the batch, ascending
    std::vector<HashedId> ids;     // their persons, hashed (FoldPart's scratch)
    std::vector<Effect> effects;
    std::vector<SwabRecord> swabs;  // LogEvent::swab of its results (Slot::swab)
    std::vector<std::string_view> dirty;  // ids of people changed (views of envelope strings)
    // The records before the events that keep one (Slot::record), shared with the
    // partition's directory (copy on write). Released by the partition's next fold of this
    // stage, on the pool: released with the slots on the runner's thread (Finish), the last
    // holder freed the record there, a cache miss or more each.
    std::vector<std::shared_ptr<const PersonRecord>> befores;
    ViewsDb::Batch batch;
    std::optional<Failure> failure;
  };
  // One batch between its fold and its views: what the partitions left for the views.
  struct Stage {
    const DecodedBatch* batch = nullptr;
    bool persist = true;  // false: folded while deferring (Defer), written by Flush
    std::vector<Slot> slots;
    std::vector<uint32_t> part_of;           // partition of each event of the batch
    // Person of each event (empty id: other streams): the batch's (DecodedBatch::persons),
    // or own_persons for a batch read without them.
    const HashedId* persons = nullptr;
    std::vector<HashedId> own_persons;
    // Keys of each event (LogEvent::keys): the batch's (DecodedBatch::keys), or own_keys.
    const EventKeys* keys = nullptr;
    std::vector<EventKeys> own_keys;
    std::deque<PartWork> parts;  // a deque: PartWork does not move (its batch)
    // The partitions' person records merged in key order (MergePeople), for Finish.
    ViewsDb::Batch people;
    std::vector<const ViewsDb::Batch*> runs;  // MergePeople's scratch
    std::optional<Failure> Folded() const;  // the first fold failure, if any
  };
  struct ViewWork {
    ViewsDb::Batch batch;
    std::optional<Failure> failure;
    // ApplyView's scratch: each partition's PartWork::effects and swabs, by partition.
    std::vector<const Effect*> effects;
    std::vector<const SwabRecord*> swabs;
    double seconds = 0;  // its last batch took, for the order of the next (longest first)
  };

  // Assigns the batch's events to partitions (the runner's thread).
  void Prepare(Stage& stage, const DecodedBatch& batch);
  // `done`: a stage whose views were applied and that no view reads in this round (null:
  // none), whose records before of the partition are released too.
  void FoldPart(size_t p, Stage& stage, const ViewsDb& db, Stage* done = nullptr);
  // Every partition's eviction still to apply (Evict), here: before the caches are read or
  // changed otherwise than by the partitions' tasks.
  void ApplyEvictions() const;
  void ApplyView(size_t v, const Stage& stage, size_t count);
  // The partitions' sorted runs of person records merged into stage.people.
  static void MergePeople(Stage& stage);
  // Runs, in one round of the pool, the folds of `fold` (may be null) and the views of
  // `views` (may be null) up to `count` events, with MergePeople(views) and `beside` (Step).
  void Run(Stage* fold, const ViewsDb& db, Stage* views, size_t count, const std::function<void()>& beside = {});
  // The views' outcome for `stage` (after Run): the first failure, or everything put in `out`.
  std::optional<Failure> Finish(Stage& stage, ViewsDb::Batch& out);

  std::vector<std::unique_ptr<View>>& views_;
  const std::string path_;
  std::vector<std::unique_ptr<Part>> parts_;
  std::vector<std::unique_ptr<ViewWork>> view_work_;
  std::vector<size_t> view_order_;  // longest view first: the views' step ends sooner
  std::vector<size_t> fold_views_;  // the view of each fold k (at most 32)
  std::vector<std::string_view> fold_names_;  // and its name (View::name)
  std::vector<int> fold_of_view_;   // each view's fold, -1: none
  bool defer_ = false;
  std::string spill_dir_;  // SpillPeople's, while spilling
  // While spilling, whether fold k's rows are made at the spill's end (PersonFold::RowsAtEnd)
  // rather than written at every Flush.
  std::vector<char> rows_at_end_;
  size_t deferred_events_ = 0;   // events folded since the last Flush, while deferring
  size_t deferred_batches_ = 0;  // batches folded since the last Flush, while deferring
  size_t flushing_batches_ = 0;  // deferred_batches_ at the last Flush, until FlushStored
  Stage stages_[2];
  Stage* pending_ = nullptr;  // folded, views not applied yet
  Stage* applied_ = nullptr;  // the last Step's (its partitions' events kept until reused)
  std::deque<ViewsDb::Batch> flush_parts_;  // Flush's, one per partition (a deque: Batch does not move)
  // The order Flush runs its tasks in (k < partitions: a partition's, else a view's):
  // longest first by what each took at the last Flush (flush_seconds_). In the tasks' own
  // order the GP view's Persist, the longest, started after the partitions' and ran alone
  // at the end of every Flush (docs/benchmarks.md, session 22).
  std::vector<size_t> flush_order_;
  std::vector<double> flush_seconds_;
  TaskPool pool_;
  std::function<void()> before_spill_removed_;
  // EndSpill's removal, while it runs (std::async's: its destructor waits for it).
  std::future<void> spill_removal_;
};

}  // namespace caseledger::projections