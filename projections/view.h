// A read view is a log consumer (STYLE.md point 6): it applies batches of events in
// position order, hands the runner the persisted form of every entry it changed (written
// with the checkpoint in one RocksDB WriteBatch), and publishes an immutable snapshot for
// readers after each batch, so a reader never sees a half-applied batch and never blocks
// the writer. The same code runs live and in a rebuild.
#pragma once

#include "domain/envelope.h"
#include "eventstore/event_store.h"
#include "domain/events.h"
#include "projections/person_directory.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

namespace caseledger::projections {

// Where a view puts the entries it changed in a batch. Keys are the view's own; the runner
// prefixes them with the view name. Values are the view's encoding (cereal binary).
class PersistSink {
 public:
  virtual ~PersistSink() = default;
  virtual void Put(std::string_view key, std::string_view value) = 0;
  virtual void Delete(std::string_view key) = 0;
};

// A view's own written entries (keys without the "<view>/" prefix) as the last written
// batch left them, for a view that keeps part of its state on disk rather than in memory
// (the GP view's patients). Given by the runner (View::Attach); thread-safe.
class StoredEntries {
 public:
  virtual ~StoredEntries() = default;
  // The entries as of one written batch (a RocksDB snapshot), for readers of a published
  // state; released with its last copy.
  class Pinned {
   public:
    virtual ~Pinned() = default;
    // Every entry whose key starts with `prefix`, in key order.
    virtual eventstore::StoreResult<void> Scan(
        std::string_view prefix, const std::function<void(std::string_view, std::string_view)>& visit) const = 0;
  };
  virtual std::shared_ptr<const Pinned> Pin() const = 0;
};

// The part of a view's state that belongs to one person at a time (the GP view's patient
// rows: a person has one GP at a time, and their status row is theirs alone), folded with
// the person's record by whoever folds the records: each person partition of the batch
// pipeline has a fold of its own and runs it on the pool with its people's records
// (batch_pipeline.h); the sequential runner has one. The fold's state of a person (its
// FoldState) is held in the person's entry of the folding directory, beside their record
// (person_directory.h), written with the record in one entry (person_entry.h) and read back
// with it: the fold holds no person of its own. The view keeps only what spans people (a
// GP's patient count and results) and learns, per event, whether the fold changed
// something of the event's person (LogEvent::fold_changed). Each fold is used by one thread
// at a time.
// A person fold's rows made at the end of a catch-up from scratch (PersonFold::RowsAtEnd)
// from every person's last entry, then handed out in key order. One thread at a time.
class PersonRowsAtEnd {
 public:
  virtual ~PersonRowsAtEnd() = default;
  // One person's last entry: their record's bytes (PersonDirectory::Encode) and the fold's
  // part (PersonFold::Part). Ids ascend from one call to the next. Throws
  // std::runtime_error for a record whose bytes do not decode.
  virtual void Add(std::string_view person_id, std::string_view record, std::string_view part) = 0;
  // Takes every row of `after`, one of the same fold's whose people all follow the ones
  // added here (the people merged on two threads, in two ranges of ids).
  virtual void Append(PersonRowsAtEnd& after) = 0;
  // The next row in key order (the key the view's own, as Persist's); false after the
  // last. After every Add and Append.
  virtual bool Next(std::string& key, std::string& value) = 0;
  // After every Add and Append, before the first Next: hands the rows from about the middle
  // key on to the one returned, so that the two halves are written at once (two table
  // files whose keys do not overlap: every row of this one's sorts before every row of the
  // returned one's). Null, the default: not split (too few rows).
  virtual std::unique_ptr<PersonRowsAtEnd> TakeUpperHalf() { return nullptr; }
};

class PersonFold {
 public:
  virtual ~PersonFold() = default;
  // Applies one event of the fold's people (every person event of the partition, in log
  // order) with the record BEFORE it (as View::Apply) and the fold's state of the person
  // (null: not registered, as `person`), before any view applies it; returns whether the
  // view's state changed for the event's person. Throws as View::Apply.
  virtual bool Apply(const LogEvent& e, const PersonRecord* person, FoldState* state) = 0;
  // Puts what changed since the last Persist (keys are the view's own, as View::Persist's),
  // once each, from the people as they are now: `changed` holds, each once, the entry of
  // every person whose entry changed since (PersonDirectory::TakeToWrite), cached in
  // `people`, with their state as fold `slot` of the entry; those this fold changed (Apply
  // returned true) are marked so there (ToWrite::FoldChanged(slot)). The writer may split
  // them between calls in a row (a Flush's stretches, batch_pipeline.cc), in key order.
  virtual void Persist(PersistSink& sink, const PersonDirectory& people,
                       std::span<const PersonDirectory::ToWrite> changed, size_t slot) = 0;
  // The fold's state of the person (`person`, as the batch left it) in the fold's own
  // encoding, written with the record in one entry (person_entry.h) whenever the record or
  // the state changed (Apply returned true). Empty: nothing (e.g. not a GP's patient, or an
  // idle one).
  virtual std::string Part(const PersonRecord& person, const FoldState& state) const = 0;
  // The part written with the record, decoded into the state when the record is read back.
  // False: it does not decode.
  virtual bool Restore(const PersonRecord& person, std::string_view part, FoldState& state) const = 0;
  // Bytes a state holds besides the FoldState itself (the memory budget's estimate).
  virtual size_t StateBytes(const FoldState& state) const = 0;
  // After a long catch-up, with everything written: gives back working buffers that grew
  // with it (what was marked for writing between two writes).
  virtual void ReleaseBuffers() {}
  // A catch-up from scratch (the people spilled: BatchPipeline::SpillPeople) may write the
  // fold's rows once, at its end, from each person's last entry, rather than at every
  // Flush: nothing reads them before its end, and a row written at one Flush was only
  // written again at a later one. What makes them (null, the default: the fold cannot;
  // Persist then writes its rows at every Flush). While the rows wait for the end, the
  // writer calls ForgetChanges where it would have called Persist.
  virtual std::unique_ptr<PersonRowsAtEnd> RowsAtEnd() const { return nullptr; }
  // Forgets what the next Persist would have written but the rows themselves (RowsAtEnd).
  virtual void ForgetChanges() {}
};

// The events a view's Apply does something with (View::Interest), for a caller that applies
// long runs of events (the batch pipeline's ApplyView): any other event it may leave out.
struct EventInterest {
  uint64_t types = ~uint64_t{0};  // bit k: the events holding alternative k of domain::Event
  bool with_effects = false;      // and every event with effects (LogEvent::effects)
  bool Wants(const domain::Event& event, bool has_effects) const {
    return ((types >> event.index()) & 1u) != 0 || (with_effects && has_effects);
  }
};

namespace view_internal {
template <class T, class... All>
constexpr uint64_t BitOf(std::variant<All...>*) {
  constexpr bool same[] = {std::is_same_v<T, All>...};
  for (size_t k = 0; k < sizeof...(All); ++k) {
    if (same[k]) return uint64_t{1} << k;
  }
  return 0;
}
}  // namespace view_internal

// The bits of EventInterest::types for events of types Events....
template <class... Events>
constexpr uint64_t EventTypes() {
  static_assert(std::variant_size_v<domain::Event> <= 64);
  static_assert(((view_internal::BitOf<Events>(static_cast<domain::Event*>(nullptr)) != 0) && ...));
  return (view_internal::BitOf<Events>(static_cast<domain::Event*>(nullptr)) | ...);
}

class View {
 public:
  virtual ~View() = default;
  // Stable name: key prefix in the views database, "views" label in metrics and SSE.
  virtual std::string_view name() const = 0;

  // Called by the runner before Load: where the view reads back what it wrote. A view
  // that keeps all its state in memory ignores it (the default).
  virtual void Attach(std::shared_ptr<const StoredEntries> entries) { (void)entries; }

  // After Attach, by the runner: `n` folds of the view's person-local state (PersonFold),
  // one per person partition, owned by the view and valid until it is destroyed (a second
  // call replaces them). Empty: the view has none and applies every event itself (the
  // default). An attached view that has folds relies on them: the runner runs them.
  virtual std::vector<PersonFold*> PersonFolds(size_t n) {
    (void)n;
    return {};
  }

  // Restores one persisted entry at startup (before any Apply). False: the bytes do not
  // decode (the runner then rebuilds the views from the log).
  virtual bool Load(std::string_view key, std::string_view value) = 0;

  // Applies one event (ascending positions, no gaps, never an event twice). `person` is
  // the directory's record of the event's person as it was BEFORE this event (null for
  // events of other streams and before registration); the directory applies the event
  // after every view did. Called from the runner's thread only. Must not fail: an event
  // that cannot be applied is a bug or corruption, reported by throwing (the runner stops
  // with the position and a metric; it never skips).
  virtual void Apply(const LogEvent& e, const PersonRecord* person, PersistSink& sink) = 0;

  // The events Apply changes anything for: Apply of any other event does nothing (returns
  // without a change, a write or a throw), so a caller may leave it out. Asked again before
  // each run of events (the answer may follow AnnounceChanges); runner thread, or the pool's
  // while the runner waits. By default every event.
  virtual EventInterest Interest() const { return {}; }

  // Whether Apply(e, before, ...) reads more of `before` (the record of the event's person
  // before it, not null) than that there is one and its GP (gp_id). The batch pipeline
  // keeps a copy of the record for an event only where a view does (a copy per event was
  // ~9 % of a catch-up: docs/benchmarks.md); the views of the others get a record that holds
  // the GP and nothing else. Called from the pipeline's partitions, on any thread: reads
  // nothing the view changes. By default a view reads the record.
  virtual bool ReadsRecord(const LogEvent& e, const PersonRecord& before) const {
    (void)e;
    (void)before;
    return true;
  }

  // Called once per batch, after its last Apply and before it is written: a view that
  // keeps track of what it changed (rather than writing on every Apply) writes it here.
  virtual void Persist(PersistSink& sink) { (void)sink; }

  // Makes the state after the last Apply visible to readers. Called after the batch and
  // its checkpoint are durable.
  virtual void Publish(uint64_t position) = 0;

  // Forgets everything (working state and what Load restored), so that the runner can
  // rebuild the view from the log when its stored entries do not load. False: the view
  // cannot; the runner then refuses to open (delete the views database to rebuild).
  virtual bool Reset() { return false; }

  // Keys changed by the last Apply, for change notifications (SSE): e.g. "001272" for a
  // municipality. Cleared by Publish.
  virtual std::vector<std::string> ChangedKeys() const = 0;
  // Whether ChangedKeys will be asked for: the runner has change listeners
  // (ViewRunner::OnChanges), and says so before it applies events. Off, ChangedKeys may
  // leave out a key that only a change tracked at every event for it would name (the GP
  // view: a GP whose patient's row changed; ~100-200 instructions an event); on (the
  // default), it names every key changed. Runner thread only.
  virtual void AnnounceChanges(bool on) { (void)on; }
};

}  // namespace caseledger::projections
