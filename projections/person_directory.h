// What the views need to know about each person, kept once for all views by the runner:
// residence, GP, enrolments, swabs, active measures and the current clinical status.
// Views read it (state before the event being applied); only the runner writes it.
//
// The record is a domain::PersonFacts, moved by the domain's own rules (FactsApplier and the
// episode rule: a case is open while a positive swab was collected after the last closure),
// plus what only the views keep; like domain::Evolve the directory never rejects an event.
// What an event changes in the figures of the views (a new positive, a measure running in a
// municipality, a closure) is computed once per event by Effects (person_effects.cc) and
// handed to every view in LogEvent::effects.
#pragma once

#include "domain/envelope.h"
#include "domain/events.h"
#include "domain/person_facts.h"
#include "domain/rules.h"
#include "domain/string_hash.h"
#include "domain/time.h"
#include "projections/event_keys.h"
#include "projections/person_key.h"
#include "projections/swab_history.h"

#include <absl/container/flat_hash_map.h>
#include <absl/container/inlined_vector.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace caseledger::projections {

// One consequence of an event for the aggregate figures: `delta` on `day` for the metric,
// in municipality `istat`. Flows (swabs, new positives, closures) count on their effective
// day; gauges (positives, hospital, measures) are deltas whose running sum is the level.
enum class Metric : uint8_t {
  kSwab,           // a swab collected (test = its kind), on the collection day
  kFirstSwab,      // a person's first collected swab (casi_testati), on that day
  kNewPositive,    // a case opened (test = kind of the swab that opened it), on the report day
  kPositive,       // gauge: open cases
  kWard,           // gauge: open cases in hospital, not in intensive care
  kIcu,            // gauge: open cases in intensive care
  kRecovered,      // a case closed as recovered, on the closure day
  kDeceased,       // a case closed by death, on the closure day
  kIsolation,      // gauge: isolations running
  kQuarantine,     // gauge: quarantines running
};

struct Effect {
  Metric metric = Metric::kSwab;
  domain::Date day;
  int32_t delta = 0;
  std::string istat;  // municipality where it counts
  domain::SwabKind test = domain::SwabKind::kMolecular;  // kSwab, kNewPositive
  // PlaceOf(istat), set by the directory (0 in an effect made otherwise): views find the
  // municipality's row by it without hashing the code (PlaceMemo, series_table.h).
  uint32_t place = 0;
  // The place is the code's, so not compared.
  bool operator==(const Effect& o) const {
    return metric == o.metric && day == o.day && delta == o.delta && istat == o.istat && test == o.test;
  }
};

// A municipality's ISTAT code (six digits) as a number, plus 1; 0 for anything else (a
// code of the reference data is always six digits; tests use others too).
inline uint32_t PlaceOf(std::string_view istat) {
  if (istat.size() != 6) return 0;
  uint32_t code = 0;
  for (char c : istat) {
    const auto digit = static_cast<uint32_t>(c - '0');
    if (digit > 9) return 0;
    code = code * 10 + digit;
  }
  return code + 1;
}

// A stretch of days over which an open case counts in a gauge (kPositive, kWard, kIcu) in
// one municipality: from `from` until `to` (excluded), or still running. A case's spells
// are kept until it closes, so that a correction that takes the case back can take back
// every day it counted, in hospital included.
struct Spell {
  Metric metric = Metric::kPositive;
  std::string istat;
  domain::Date from;
  std::optional<domain::Date> to;
  bool operator==(const Spell&) const = default;
  template <class A> void serialize(A& ar) { ar(metric, istat, from, to); }
};

// One decoded event of the log.
struct LogEvent {
  const domain::Envelope& envelope;
  const domain::Event& event;
  // Person id for events of a "person-<id>" stream; empty otherwise.
  std::string_view person_id;
  // Filled by the runner for person events (empty when a test drives a view directly).
  std::span<const Effect> effects = {};
  // Set by the runner for a view that has a person fold (View::PersonFolds): whether the
  // view's fold changed something of the event's person (the GP view: their status row).
  bool fold_changed = false;
  // Set by the batch pipeline for a ResultRecorded of a registered person: the swab it
  // reports, as it was before the event (null otherwise: find it in the record). Why: a
  // view that needs only this of the record (the labs') has no copy of the whole record
  // kept for it (View::ReadsRecord), which the partition then copied on write: ~190 M of
  // the 1:100 whole history's 18.9 G instructions (docs/benchmarks.md, session 19).
  const SwabRecord* swab = nullptr;
  // Set by the batch pipeline: the event's keys as the batch's reader computed them
  // (DecodedBatch::keys); null (a LogEvent made otherwise: tests, the sequential runner,
  // what-if): the accessors below compute them. Why: the directory, the effects, the spells
  // and the GP and school views each computed them again per event (~90 and 100-150
  // instructions an event: docs/benchmarks.md, sessions 28 and 29).
  const EventKeys* keys = nullptr;
  domain::Date EffectiveDay() const { return keys ? keys->effective_day : envelope.effective_at.ToDate(); }
  // The day of the event's own instant (OwnInstantOf), `instant`, which the caller passes:
  // the SwabCollected's collected_at, the ResultRecorded's reported_at, the ResultCorrected's
  // corrected_at.
  domain::Date OwnDay(domain::Timestamp instant) const { return keys ? keys->own_day : instant.ToDate(); }
  // SwabIdHash of the event's swab id, `swab_id` (the one swab id it names).
  uint64_t SwabHash(std::string_view swab_id) const { return keys ? keys->swab_hash : SwabIdHash(swab_id); }
};

struct ActiveMeasure {
  uint32_t measure_id = 0;
  bool isolation = false;  // else quarantine
  domain::Date start;
  std::optional<domain::Date> given_end;
  std::string reason;
  // The day the measure is over by time alone: the given end, else the plan of the rule
  // set in force on `start` (vaccination status on `start`), else start + 14 when no set
  // is in force or the directory has no rule book. Fixed when the measure is ordered.
  domain::Date end;
  // Where the measure counts in the views, and from which day: the residence when it was
  // ordered and its start, or the new residence and the effective day of a residence
  // change while it was running.
  std::string istat;
  domain::Date since;
  bool operator==(const ActiveMeasure&) const = default;
  template <class A> void serialize(A& ar) {
    ar(measure_id, isolation, start, given_end, reason, end, istat, since);
  }
};

// What a view's person fold (view.h: PersonFold) keeps of one person, of the fold's own type:
// held in the person's entry of the directory beside their record, so that it is found with
// the record, read back with it and forgotten with it. Null: nothing (e.g. an idle patient).
using FoldState = std::shared_ptr<void>;

// The facts shared with the domain's aggregate (residence, GP, enrolments, doses, clinical
// status, the episode: domain/person_facts.h), moved by the same rules (FactsApplier,
// PersonFacts::EpisodeWith), and what only the views keep.
struct PersonRecord : domain::PersonFacts {
  std::vector<ActiveMeasure> measures;  // active ones only
  SwabHistory swabs;                    // every swab requested, in request order (shared by copies)
  // The open case as counted by the views: report day and municipality of its new
  // positive, kind of the swab that opened it, and its gauge spells (empty when no case
  // is open).
  std::optional<domain::Date> case_reported_on;
  std::string case_istat;
  domain::SwabKind case_test = domain::SwabKind::kMolecular;
  std::vector<Spell> spells;

  const SwabRecord* FindSwab(std::string_view swab_id) const;
  // The same by the id's hash (SwabIdHash: LogEvent::SwabHash).
  const SwabRecord* FindSwabHash(uint64_t id_hash) const;
  const ActiveMeasure* FindMeasure(uint32_t measure_id) const;
  bool tested() const;  // any swab collected

  // Format 2 of the record (person_directory.cc).
  template <class A> void serialize(A& ar) {
    ar(residence_istat, gp_id, enrolments, measures, doses, case_open, hospitalized, in_icu,
       last_closure, closed_on, last_positive, swabs, case_reported_on, case_istat, case_test,
       spells);
  }
};

// The entries of the people the runner is working on (each a record and one FoldState per
// person fold, SetFolds): a bounded cache in front of the
// views database, where every record is written ("people/<id>") in the batch that changed
// it (view_runner.h). Why a cache and not every person in memory: at full scale the map of
// every record outgrows the server's memory (figures: docs/benchmarks.md), while the people
// a batch touches are few and mostly touched again soon (a swab is requested, collected and
// reported within days; a measure runs two weeks).
//
// Protocol (the runner's): BeginBatch(); Touch() each distinct person of the batch and
// Load() from the database those not cached (a person in neither is not registered yet);
// apply the batch (records are never evicted during it, so the pointers Find returns stay
// valid until the next Evict); write the batch; then Evict(budget). Eviction is by least
// recent batch (a stamp per record, and a count of the records of each stamp that finds
// the cut; then one pass over the table, which runs only when over budget and evicts down
// to 7/8 of it, so it is rare). Eviction only forgets: every record was written by its
// batch before.
// Used on its own (what-if, tests), with no Evict, it holds everyone, as before.
class PersonDirectory {
 public:
  // `rules` fixes measure ends (ActiveMeasure::end); null: start + 14 for every measure.
  explicit PersonDirectory(std::shared_ptr<const domain::RuleBook> rules = nullptr);

  const PersonRecord* Find(std::string_view person_id) const;
  // The record (null: not cached) and, in `states`, the person's fold states (empty: not cached).
  const PersonRecord* Find(std::string_view person_id, std::span<const FoldState>& states) const;
  // The fold states of a cached person (SetFolds of them; empty: not cached).
  std::span<FoldState> FoldStates(std::string_view person_id);
  // How many fold states each entry holds (the runner's person folds); forgets every entry.
  void SetFolds(size_t n) {
    Clear();
    folds_ = n;
  }
  size_t folds() const { return folds_; }
  const PersonRecord* Get(std::string_view person_id) const { return Find(person_id); }
  // Applies one event of a person stream (others are ignored); returns true when the
  // record changed (the runner then persists it under "people/<id>"). Never rejects.
  bool Apply(const LogEvent& e);
  // The effects of `e` on the figures, from the record as it is before `e` (append to
  // `out`). Throws std::runtime_error for an event the record cannot explain (a result for
  // a swab never requested, an end for a measure not running, an event of a person never
  // registered): the log is corrupt or this code is wrong, and the runner stops.
  void Effects(const LogEvent& e, std::vector<Effect>& out) const;
  // Effects and Apply with `record` == Find(e.person_id) looked up by the caller: the
  // runner looks each event's person up once for the effects, the views and the directory.
  void Effects(const LogEvent& e, const PersonRecord* record, std::vector<Effect>& out) const;
  bool Apply(const LogEvent& e, const PersonRecord* record);
  // The partitioned pipeline's step (batch_pipeline.h): `before` gets the record as it is
  // before `e` (null: not registered), shared, so that it stays as it is while the
  // directory moves on (copy on write: a record someone else holds is copied before it
  // changes; the copy shares the swab history, SwabHistory); then the effects of `e` are
  // appended to `effects` and `e` is applied.
  // Returns whether the record changed; throws as Effects does.
  bool Step(const LogEvent& e, std::shared_ptr<const PersonRecord>& before, std::vector<Effect>& effects) {
    return Step(e, before, effects, [](const PersonRecord*, std::span<FoldState>) { return true; });
  }
  // The same, keeping the record before `e` only where the caller asks for it: once the
  // effects are appended, `keep(record, states)` is called with the record as it is before
  // `e` (null: not registered; valid during the call only) and the person's fold states
  // (empty when not registered; the caller's folds apply `e` to them there) and returns
  // whether `before` gets the record, shared. A record nobody else holds is then changed in place rather than copied: the
  // batch pipeline keeps a record for its views only where a view reads more of it than the
  // GP (View::ReadsRecord), and a copy per event was ~9 % of a catch-up (docs/benchmarks.md).
  template <class Keep>
  bool Step(const LogEvent& e, std::shared_ptr<const PersonRecord>& before, std::vector<Effect>& effects,
            Keep&& keep) {
    return Step(e, HashedId::Of(e.person_id), before, effects, std::forward<Keep>(keep));
  }
  // The same with the person's id hashed by the caller (`person.id` is e.person_id).
  template <class Keep>
  bool Step(const LogEvent& e, const HashedId& person, std::shared_ptr<const PersonRecord>& before,
            std::vector<Effect>& effects, Keep&& keep) {
    before.reset();
    last_ = nullptr;
    if (e.person_id.empty()) return false;
    auto it = people_.find(person);
    const PersonRecord* record = it == people_.end() ? nullptr : it->second.record.get();
    Effects(e, record, effects);
    std::span<FoldState> states;
    if (record != nullptr) {
      states = std::span<FoldState>(it->second.folds.data(), it->second.folds.size());
      last_ = &it->second;  // for StepGpOnly, in `keep`
    }
    if (keep(record, states) && record != nullptr) before = it->second.record;
    const bool changed = Advance(e, it);
    last_ = it == people_.end() ? nullptr : &it->second;
    return changed;
  }

  // Marks the entry of the person the last Step moved as unwritten, for a caller that lists
  // the people it must write (the batch pipeline): true when it was not marked already
  // (list them then), false when it was (listed already) or the person is not registered.
  // Call right after that Step. Why: every event of a person changed their entry, and a
  // catch-up listed them once per event and sorted the list to find each once, ~500
  // instructions per event at 1:100 (docs/benchmarks.md, session 18).
  // `folds`: bit k set when fold k (SetFolds) changed the person's state, kept until the
  // entry is written (ToWrite::folds_changed): a fold's Persist writes the people it changed from the
  // caller's list instead of a list of its own (the GP view's list of (GP, patient) pairs,
  // two keys built and hashed per change and sorted to find each once, was ~5 % of a
  // rebuild's instructions at 1:100: docs/benchmarks.md, session 19).
  bool MarkUnwritten(uint32_t folds = 0) {
    if (last_ == nullptr) return false;
    last_->folds_changed |= folds;
    if (last_->unwritten) return false;
    last_->unwritten = true;
    return true;
  }
  // The same for the cached person `person_id` (a caller that does not Step).
  void MarkFoldsChanged(std::string_view person_id, uint32_t folds);
  // In Step's `keep`, for a registered person: a record of the person's GP alone that the
  // caller keeps in their entry (the batch pipeline's Part::GpOnly; null until set),
  // forgotten with the entry; the caller checks its GP against the record's. Why: looking
  // it up by GP id for every event no view reads more of than the GP was ~1.5 % of a
  // rebuild's instructions at 1:100 (docs/benchmarks.md, session 20).
  const PersonRecord*& StepGpOnly() { return last_->gp_only; }
  // A cached person's entry as it is about to be written (TakeToWrite): their record and
  // fold states, and which folds changed the states since the entry was last written
  // (MarkUnwritten's `folds`: bit k for fold k). Valid until the table changes (Step,
  // Apply, Load, Evict, Clear).
  struct ToWrite {
    std::string_view id;
    const PersonRecord* record = nullptr;
    std::span<const FoldState> states;
    uint32_t folds_changed = 0;
    bool FoldChanged(size_t k) const { return ((folds_changed >> k) & 1u) != 0; }
  };
  // Looks up each of `people` (ids, viewed until `out` is used up), in order, for writing:
  // appends the entry of each one cached to `out` and clears its marks (MarkUnwritten),
  // so that the person's next change lists them again. The folds' Persist and the writer
  // of the entries then read it from `out`: each person changed since the last Flush was
  // looked up twice, by the GP fold and by the writer, at 1:1 density mostly a cache miss
  // each (docs/benchmarks.md, sessions 23 and 24).
  template <class Ids>
    requires(!std::is_convertible_v<const Ids&, std::string_view>)
  void TakeToWrite(const Ids& people, std::vector<ToWrite>& out) {
    TakeToWrite(people, 0, people.size(), out);
  }
  // The same for people[from, to), the slots of the people after it hinted (Prefetch): for
  // a caller that writes a long list in stretches.
  template <class Ids>
  void TakeToWrite(const Ids& people, size_t from, size_t to, std::vector<ToWrite>& out) {
    for (size_t k = from; k < to; ++k) {
      if (k + kSlotAhead < people.size()) Prefetch(std::string_view(people[k + kSlotAhead]));
      TakeToWrite(std::string_view(people[k]), out);
    }
  }
  void TakeToWrite(std::string_view person_id, std::vector<ToWrite>& out);
  // Hint for a caller walking `entries` in order, before it reads entries[k]: the record and
  // the fold states of the entry kRecordAhead further on (PrefetchRecord, without its look-up).
  static void PrefetchEntryAhead(std::span<const ToWrite> entries, size_t k) {
    if (k + kRecordAhead < entries.size()) PrefetchEntry(entries[k + kRecordAhead]);
  }

  // Persistence of one record: a format byte then cereal binary.
  static std::string Encode(const PersonRecord& r);
  // The same bytes appended to `out`.
  static void EncodeTo(const PersonRecord& r, std::string& out);
  // False for another format byte, short input or bytes left over.
  static bool Decode(std::string_view bytes, PersonRecord& out);
  // The record's gp_id (a view of `bytes`) without decoding the rest: for the GP view's
  // rows made from every person's entry at the end of a catch-up (~4 M people at 1:1).
  // False for another format byte or bytes too short for it.
  static bool DecodeGpId(std::string_view bytes, std::string_view& gp_id);
  // Decodes and caches the record (replacing a cached one and its fold states, which the
  // caller then restores: person_entry.h), stamped with this batch.
  bool Load(std::string_view person_id, std::string_view bytes);
  void Clear() {
    people_.clear();
    stamped_.clear();
    last_ = nullptr;
  }
  // Records cached (every record, when nothing is ever evicted).
  size_t size() const { return people_.size(); }
  const domain::RuleBook* rules() const { return rules_.get(); }

  // The cache (see the class comment). BeginBatch starts a new batch stamp; Touch stamps
  // a cached record with it and returns it (null: not cached); records created by Apply or
  // Load get the current stamp. Evict forgets the least recently stamped records until
  // at most `budget` are left (down to budget - budget/8, so that it runs rarely); 0: no
  // limit. Returns how many it forgot.
  void BeginBatch() { ++stamp_; }
  const PersonRecord* Touch(std::string_view person_id) { return Touch(HashedId::Of(person_id)); }
  const PersonRecord* Touch(const HashedId& person);
  size_t Evict(size_t budget);

  // Hints that change nothing: they start loading into the cache what a look-up of
  // `person_id` is about to read, for a caller that knows its people a few steps ahead (a
  // batch's events, a list of people to write). Prefetch: the person's slot of the table;
  // PrefetchRecord: their record and fold states too (it looks the slot up: call it a few
  // steps after the person's Prefetch, so that the slot is in the cache by then). Why: at
  // 1:1 density the table of the cached people (~275 k entries of 112 bytes, their records
  // ~0.7 KiB each, at a 640 MiB budget) is far larger than the cache, and a look-up of a
  // person not met for a while waited for memory (docs/benchmarks.md, session 23).
  void Prefetch(std::string_view person_id) const { people_.prefetch(person_id); }
  void Prefetch(const HashedId& person) const { people_.prefetch(person); }
  void PrefetchRecord(std::string_view person_id) const { PrefetchRecord(HashedId::Of(person_id)); }
  void PrefetchRecord(const HashedId& person) const;
  static void PrefetchEntry(const ToWrite& entry);
  // How far ahead a caller walking people in order hints: the slot of the person
  // kSlotAhead further on and the record of the one kRecordAhead further on (a miss per
  // stage, overlapped).
  static constexpr size_t kSlotAhead = 16;
  static constexpr size_t kRecordAhead = 8;

 private:
  struct Cached {
    // Shared with the batch pipeline's slots (Step); only the directory writes it, and only
    // while no one else holds it.
    std::shared_ptr<PersonRecord> record;
    uint64_t stamp = 0;  // batch that last touched it
    bool unwritten = false;  // MarkUnwritten since the last TakeToWrite
    uint32_t folds_changed = 0;  // bit k: fold k changed the state since (MarkUnwritten)
    const PersonRecord* gp_only = nullptr;  // StepGpOnly
    // The person folds' states of the person (SetFolds). Why here and not in each fold's
    // own table keyed by person: every event of a GP's patient looked their row up there,
    // a cache miss in a table of millions (5.6 % of a 1:1 catch-up), with an eviction of
    // its own (docs/benchmarks.md, 2026-12-05).
    absl::InlinedVector<FoldState, 1> folds;
  };
  using People = absl::flat_hash_map<PersonKey, Cached, PersonKeyHash, PersonKeyEq>;
  // A new entry of `person_id` (not cached), stamped with this batch.
  People::iterator Insert(std::string_view person_id, std::shared_ptr<PersonRecord> record);
  // One more entry (`delta` 1) or one fewer (-1) stamped `stamp` (stamped_).
  void CountStamp(uint64_t stamp, int delta) {
    if (stamped_.empty()) first_stamp_ = stamp;
    const size_t i = stamp - first_stamp_;
    if (i >= stamped_.size()) stamped_.resize(i + 1, 0);
    if (delta > 0) {
      ++stamped_[i];
    } else {
      --stamped_[i];
    }
  }
  // Step's end: applies `e` to the record at `it` (the end: not registered), copied first
  // when someone else holds it (copy on write).
  // `it` then points to the person's entry (a new one for a registration).
  bool Advance(const LogEvent& e, People::iterator& it);

  std::shared_ptr<const domain::RuleBook> rules_;
  // A Swiss table (one probe of its control bytes, then the slot) rather than
  // std::unordered_map's chain of nodes: every event looks its person up, and at scale
  // (half a million records) each node visited was a cache miss (~5 % of a rebuild).
  // Looked up by std::string_view (Debian's Abseil has a string_view of its own: its
  // default string hash does not take ours). Keys held inline (person_key.h): with
  // std::string keys every hit compared with a heap block of its own, a second cache miss
  // per look-up (memcmp was 8 % of a catch-up at 1:1 density; docs/benchmarks.md,
  // 2026-12-05). Ids over 39 characters (person ids are 26-character ULIDs) throw
  // std::length_error.
  People people_;
  uint64_t stamp_ = 0;
  // How many entries carry each stamp from first_stamp_ on (stamped_[stamp - first_stamp_]):
  // Evict's cut without a pass over the table. Why: gathering every entry's stamp and
  // nth_element over them was about half of Evict's samples (0.9 % of a catch-up at 1:1
  // density; docs/benchmarks.md, session 24).
  std::vector<size_t> stamped_;
  uint64_t first_stamp_ = 0;
  size_t folds_ = 0;
  // The entry the last Step moved (null: none), for MarkUnwritten; valid until the table
  // changes again.
  Cached* last_ = nullptr;

};

}  // namespace caseledger::projections
