#include "projections/gp_view.h"

#include "projections/gp_view_rows.h"
#include "projections/memory_estimate.h"

#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <set>
#include <sstream>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace caseledger::projections {
namespace {

using namespace gp_rows;  // the rows this view keeps

// A measure with the end the directory fixes (`end`, else internal::PlannedEnd: the given
// end, else the plan of the set in force on the start with the vaccination status on that
// day), and the plan's release-with-test day and rule set.
MeasureStatus Plan(const domain::RuleBook& rules, const PersonRecord& r, uint32_t id, bool isolation, Date start,
                   std::optional<Date> given_end, const std::string& reason, std::optional<Date> end = std::nullopt) {
  if (!end) end = internal::PlannedEnd(&rules, r, isolation, start, reason, given_end);
  MeasureStatus m{id, isolation, start, *end, {}, given_end.has_value(), reason, {}};
  if (const domain::RuleSet* rs = rules.InForce(start)) {
    const domain::MeasurePlan plan = rs->Plan(
        {isolation ? domain::MeasureKind::kIsolation : domain::MeasureKind::kQuarantine, start,
         reason, domain::ClassifyVaccination(r.doses, r.last_recovery(), start)});
    m.release_with_test_from = plan.release_with_test_from;
    m.rule_set = plan.rule_set_id;
  }
  return m;
}

// The status of a patient who had no GP before: open case and measures from the record.
std::shared_ptr<PatientStatus> FromRecord(const domain::RuleBook& rules, const PersonRecord& r) {
  PatientStatus s;
  s.case_open = r.case_open;
  for (const ActiveMeasure& a : r.measures) {
    s.measures.push_back(Plan(rules, r, a.measure_id, a.isolation, a.start, a.given_end, a.reason, a.end));
  }
  return s.idle() ? nullptr : std::make_shared<PatientStatus>(std::move(s));
}

// Whether the case is open after a result or correction (the directory's episode rule).
bool OpenAfter(const PersonRecord& r, uint64_t swab_hash, domain::Outcome outcome) {
  return internal::EpisodeWith(r, swab_hash, static_cast<uint8_t>(outcome)).open;
}

// What an event of a patient (not GpAssigned) changes in their status: calls
// update(change), change a function of PatientStatus& returning whether it changed the
// status (exactly: the status differs from what it was), for the events that may change it.
template <class Update>
void StatusChange(const domain::RuleBook& rules, const LogEvent& e, const PersonRecord& person, Update&& update) {
  using P = PatientStatus;
  if (const auto* x = std::get_if<domain::SwabRequested>(&e.event)) {
    const Date day = e.EffectiveDay();
    update([&](P& p) {
      p.pending.push_back({InlineId<40>(x->swab_id), x->kind, day, {}});
      return true;
    });
  } else if (const auto* x = std::get_if<domain::SwabCollected>(&e.event)) {
    update([&](P& p) {
      const Date day = e.OwnDay(x->collected_at);
      bool changed = false;
      for (PendingSwab& w : p.pending) {
        if (w.swab_id.view() != x->swab_id || w.collected_on == day) continue;
        w.collected_on = day;
        changed = true;
      }
      return changed;
    });
  } else if (const auto* x = std::get_if<domain::ResultRecorded>(&e.event)) {
    const bool open = OpenAfter(person, e.SwabHash(x->swab_id), x->outcome);
    update([&](P& p) {
      const bool changed =
          std::erase_if(p.pending, [&](const PendingSwab& w) { return w.swab_id.view() == x->swab_id; }) > 0 ||
          p.case_open != open;
      p.case_open = open;
      return changed;
    });
  } else if (const auto* x = std::get_if<domain::ResultCorrected>(&e.event)) {
    const bool open = OpenAfter(person, e.SwabHash(x->swab_id), x->outcome);
    update([&](P& p) { return std::exchange(p.case_open, open) != open; });
  } else if (const auto* x = std::get_if<domain::IsolationOrdered>(&e.event)) {
    const MeasureStatus m = Plan(rules, person, x->measure_id, true, x->start, x->end, x->reason);
    update([&](P& p) {
      p.measures.push_back(m);
      return true;
    });
  } else if (const auto* x = std::get_if<domain::QuarantineOrdered>(&e.event)) {
    const MeasureStatus m = Plan(rules, person, x->measure_id, false, x->start, x->end, x->reason);
    update([&](P& p) {
      p.measures.push_back(m);
      return true;
    });
  } else if (const auto* x = std::get_if<domain::MeasureEnded>(&e.event)) {
    update([&](P& p) {
      return std::erase_if(p.measures, [&](const MeasureStatus& m) { return m.id == x->measure_id; }) > 0;
    });
  } else if (std::holds_alternative<domain::CaseClosed>(e.event)) {
    update([](P& p) { return std::exchange(p.case_open, false); });
  }
}

// The patient rows of one person partition's people, attached (PersonFold): a patient's
// status is the fold's state of the person (FoldState: a PatientStatus, null when idle),
// held beside their record and written with it (Part); Persist writes the "<gp>/p/<person>"
// rows changed, for the view's readers. A person has one GP at a time (the record's gp_id:
// GpAssigned moves the row), so the row is the person's own state and is folded with their
// record, on the partition's thread.
class PatientRows final : public PersonFold {
 public:
  explicit PatientRows(std::shared_ptr<const domain::RuleBook> rules) : rules_(std::move(rules)) {}

  bool Apply(const LogEvent& e, const PersonRecord* person, FoldState* state) override {
    const std::string_view id = e.person_id;
    // No record: the person's registration (any other event of a person never registered
    // stopped the runner already: PersonDirectory::Effects).
    if (id.empty() || person == nullptr) return false;
    if (const auto* x = std::get_if<domain::GpAssigned>(&e.event)) {
      const std::string& to = x->gp_id;
      const std::string& from = person->gp_id;
      if (from == to) return false;
      Status status = from.empty() ? FromRecord(*rules_, *person) : Of(*state);
      if (!from.empty()) left_.push_back({from, PersonKey(id)});
      *state = to.empty() ? nullptr : std::move(status);
      return true;
    }
    if (person->gp_id.empty()) return false;
    bool changed = false;
    StatusChange(*rules_, e, *person, [&](auto change) {
      auto* now = static_cast<PatientStatus*>(state->get());
      if (now != nullptr && state->use_count() == 1) {
        // The directory's alone: changed in place. A copy of the status to compare with,
        // then a new one, per event of a patient was ~1/3 of this fold (docs/benchmarks.md,
        // session 18).
        if (!change(*now)) return;
        if (now->idle()) *state = nullptr;
      } else {
        PatientStatus next = now ? *now : PatientStatus{};
        if (!change(next)) return;
        *state = next.idle() ? nullptr : std::make_shared<PatientStatus>(std::move(next));
      }
      changed = true;
    });
    return changed;
  }

  // A row is its patient's status while their GP is the row's: the row of each person
  // this fold changed is put under their GP now, and the rows of the GPs they left are
  // deleted (unless they came back). Every person changed since the last Persist is cached
  // (their batches are not written yet: the runner's eviction keeps them).
  void Persist(PersistSink& sink, const PersonDirectory& people, std::span<const PersonDirectory::ToWrite> changed,
               size_t slot) override {
    auto order = [](const Left& a, const Left& b) {
      return std::pair(std::string_view(a.first), a.second.view()) <
             std::pair(std::string_view(b.first), b.second.view());
    };
    auto same = [](const Left& a, const Left& b) { return a.first == b.first && a.second.view() == b.second.view(); };
    std::sort(left_.begin(), left_.end(), order);
    left_.erase(std::unique(left_.begin(), left_.end(), same), left_.end());
    for (const auto& [gp, person] : left_) {
      const PersonRecord* record = people.Find(person.view());
      if (record == nullptr) {
        throw std::logic_error("the patient row " + PatientKey(gp, person.view()) + " changed and its person is not cached");
      }
      if (record->gp_id != gp) sink.Delete(PatientKey(gp, person.view()));
    }
    left_.clear();
    std::string key;
    for (size_t k = 0; k < changed.size(); ++k) {
      const PersonDirectory::ToWrite& entry = changed[k];
      // A few people ahead (PersonDirectory::Prefetch): most were not met for many batches.
      PersonDirectory::PrefetchEntryAhead(changed, k);
      if (!entry.FoldChanged(slot) || entry.record->gp_id.empty()) continue;
      if (slot >= entry.states.size()) {
        throw std::logic_error("the patient " + std::string(entry.id) + " has no row state");
      }
      key.assign(entry.record->gp_id).append("/p/").append(entry.id);
      const auto* status = static_cast<const PatientStatus*>(entry.states[slot].get());
      sink.Put(key, Encode(status ? *status : PatientStatus{}));
    }
  }

  // The patient's status (the row's value) when not idle: a person with a GP is a patient of
  // that GP (record's gp_id), so no part says idle.
  std::string Part(const PersonRecord& person, const FoldState& state) const override {
    if (person.gp_id.empty() || state == nullptr) return {};
    return Encode(*static_cast<const PatientStatus*>(state.get()));
  }

  bool Restore(const PersonRecord& person, std::string_view part, FoldState& state) const override {
    state = nullptr;
    if (person.gp_id.empty() || part.empty()) return part.empty();
    PatientStatus s;
    if (!Decode(part, s) || s.idle()) return false;
    for (const PendingSwab& p : s.pending) {
      if (p.kind > domain::SwabKind::kAntigen) return false;
    }
    state = std::make_shared<PatientStatus>(std::move(s));
    return true;
  }

  size_t StateBytes(const FoldState& state) const override {
    if (state == nullptr) return 0;
    const auto& s = *static_cast<const PatientStatus*>(state.get());
    // The object with its control block (std::make_shared), the vectors' buffers and the
    // strings that do not fit inline (a pending swab's id is inline).
    size_t bytes = AllocatedBytes(sizeof(PatientStatus) + 16) +
                   AllocatedBytes(s.measures.capacity() * sizeof(MeasureStatus)) +
                   AllocatedBytes(s.pending.capacity() * sizeof(PendingSwab));
    for (const MeasureStatus& m : s.measures) bytes += HeapBytes(m.reason) + HeapBytes(m.rule_set);
    return bytes;
  }

  void ReleaseBuffers() override {
    if (left_.empty()) std::vector<Left>().swap(left_);
  }
  // Every person with a GP has one row, their status: made from their last entry alone.
  std::unique_ptr<PersonRowsAtEnd> RowsAtEnd() const override { return MakeRowsAtEnd(); }
  void ForgetChanges() override { left_.clear(); }
  void Clear() { left_.clear(); }

 private:
  using Status = std::shared_ptr<PatientStatus>;
  static Status Of(const FoldState& state) { return std::static_pointer_cast<PatientStatus>(state); }
  static size_t HeapBytes(const std::string& s) { return s.capacity() > 15 ? AllocatedBytes(s.capacity() + 1) : 0; }

  std::shared_ptr<const domain::RuleBook> rules_;
  // (GP, patient) a patient left since the last Persist (GpAssigned): its row is deleted.
  // The rows changed are the people this fold changed (PersonDirectory::FoldChanged).
  using Left = std::pair<std::string, PersonKey>;
  std::vector<Left> left_;
};

}  // namespace

class GpView::Impl final : public KeyedTable {
 public:
  explicit Impl(std::shared_ptr<const domain::RuleBook> rules) : rules_(std::move(rules)) {}

  std::shared_ptr<const domain::RuleBook> rules_;
  Table table_;  // the writer's GPs
  // Attached (View::Attach): patients are rows of the views database, not buckets, folded
  // with their person's record by the runner's folds (PersonFolds: one per person
  // partition; a patient's status is held beside their record); the GPs keep their patient
  // counts and results. A person with a GP is a patient of that GP and of no other (the
  // record's gp_id moves only by GpAssigned, which moves the patient), so the GPs' side
  // needs no row to know who is a patient of whom.
  std::shared_ptr<const StoredEntries> stored_;
  std::vector<std::unique_ptr<PatientRows>> folds_;
  bool announce_ = true;  // AnnounceChanges
  using Status = std::shared_ptr<PatientStatus>;
  cow::DirtyPairs<PersonKey> dirty_;  // not attached: (GP, patient) changed since the last Persist
  // A GP's results are written one entry per report day ("<gp>/r/<day>"): the days whose
  // notes changed since the last Persist (written whole, or deleted when gone), and the
  // days written and not deleted since (a day added and gone between two writes is never
  // written nor deleted). Why per day rather than per note: notes were 37 % of the entries
  // a catch-up wrote, half of them deletes (docs/benchmarks.md, 2026-12-04/05).
  using DayKey = std::pair<std::string, int32_t>;  // GP, Date::days
  // By GP, the days changed (each once): Persist sorts the few thousand GPs, not the tens
  // of thousands of (GP, day) keys of a catch-up's write, to write them in key order.
  absl::flat_hash_map<std::string, std::vector<int32_t>, KeyHash, std::equal_to<>> days_changed_;
  absl::flat_hash_set<DayKey> days_stored_;
  std::vector<std::pair<const std::string, std::vector<int32_t>>*> gps_changed_;  // Persist's scratch
  // Nothing written (Persist) nor loaded since the view was made or cleared: the next
  // Persist writes every report day kept and deletes none, which is what tracking the days
  // changed would have it write, so they are not tracked until then. Why: a catch-up from
  // scratch persists once, at its end, and the tracking per note (a look-up of the GP's
  // days per result) was most of AddNote (docs/benchmarks.md, session 30).
  bool unwritten_ = true;

  bool Load(std::string_view key, std::string_view value) override;
  std::shared_ptr<const void> Freeze() override {
    return std::make_shared<const FrozenGps>(FrozenGps{table_.Freeze(), stored_ ? stored_->Pin() : nullptr});
  }
  std::vector<std::string> ChangedKeys() const override { return table_.ChangedKeys(); }

  // Not attached: the patient's status (null: idle); nullopt: not a patient of the GP.
  std::optional<Status> GetPatient(const std::string& gp, std::string_view person) {
    const Patient* p = FindPatient(FindGp(gp), person);
    return p ? std::optional<Status>(p->status) : std::nullopt;
  }
  const GpEntry* FindGp(std::string_view gp) const { return table_.Find(gp); }
  void MarkDirty(std::string_view gp, std::string_view person) { dirty_.Mark(gp, person); }
  GpEntry& OwnGp(const std::string& gp) { return table_.Own(gp); }
  Patient& OwnPatient(const std::string& gp, std::string_view person) {
    MarkDirty(gp, person);
    return *FindIn(Own(OwnGp(gp).buckets[BucketOf(person)]), person);
  }

  void DayChanged(const std::string& gp, Date day) {
    if (unwritten_) return;
    std::vector<int32_t>& days = days_changed_[gp];
    if (std::find(days.begin(), days.end(), day.days) == days.end()) days.push_back(day.days);
  }
  // A report day no longer kept: one written is to be deleted; one never written has
  // nothing to write and is forgotten, so that a GP's days changed stay the few kept
  // however many days pass between two Persists (a catch-up from scratch persists once).
  void DayDropped(const std::string& gp, Date day) {
    if (unwritten_) return;
    if (!days_stored_.empty() && days_stored_.contains(DayKey(gp, day.days))) return DayChanged(gp, day);
    if (auto it = days_changed_.find(gp); it != days_changed_.end()) std::erase(it->second, day.days);
  }
  // Whether "<a>/..." sorts before "<b>/..." (a GP id holds no '/': Load).
  static bool GpKeyBefore(std::string_view a, std::string_view b) {
    const size_t n = std::min(a.size(), b.size());
    if (const int c = a.substr(0, n).compare(b.substr(0, n)); c != 0) return c < 0;
    if (a.size() == b.size()) return false;
    return a.size() < b.size() ? '/' < b[n] : a[n] < '/';
  }

  // The notes of a GP's report day (null: none kept).
  const Notes* DayNotes(std::string_view gp, Date day) const {
    const GpEntry* g = FindGp(gp);
    if (g == nullptr) return nullptr;
    auto at = std::lower_bound(g->results.begin(), g->results.end(), day,
                               [](const auto& d, Date x) { return d.first < x; });
    return at != g->results.end() && at->first == day && !at->second->empty() ? at->second.get() : nullptr;
  }

  // Writes each report day whose notes changed (deleted when none is left and it was
  // written before); not attached, each patient changed in the batch once, or deletes one
  // who left the GP (attached, the folds write the rows).
  void Persist(PersistSink& sink) override {
    // In key order: the writer's batch is then one sorted run (ViewsDb::Batch::Sort finds it
    // so and copies nothing), where in the set's order it sorted and rewrote a catch-up's
    // tens of thousands of report days at every write. A report day's key is
    // "<gp>/r/YYYY-MM-DD": by GP, then by day.
    if (unwritten_) {
      PersistAllDays(sink);
    } else {
      PersistDaysChanged(sink);
    }
    std::string gp;
    dirty_.Drain([&](std::string_view g, std::string_view person) {
      gp.assign(g);
      const std::optional<Status> row = GetPatient(gp, person);
      if (row) {
        const Status& status = *row;
        sink.Put(PatientKey(gp, person), Encode(status ? *status : PatientStatus{}));
      } else {
        sink.Delete(PatientKey(gp, person));
      }
    });
  }

  // The first Persist (unwritten_): every day kept of every GP, in key order.
  void PersistAllDays(PersistSink& sink) {
    std::vector<std::pair<const std::string*, const GpEntry*>> gps;
    table_.ForEach([&](const std::string& gp, const GpEntry& entry) {
      if (!entry.results.empty()) gps.emplace_back(&gp, &entry);
    });
    std::sort(gps.begin(), gps.end(), [](const auto& a, const auto& b) { return GpKeyBefore(*a.first, *b.first); });
    for (const auto& [gp, entry] : gps) {
      for (const auto& [day, notes] : entry->results) {  // by day, ascending
        if (notes->empty()) continue;
        sink.Put(DayKeyOf(*gp, day), Encode(*notes));
        days_stored_.emplace(*gp, day.days);
      }
    }
    unwritten_ = false;
  }

  void PersistDaysChanged(PersistSink& sink) {
    gps_changed_.clear();
    for (auto& gp : days_changed_) gps_changed_.push_back(&gp);
    std::sort(gps_changed_.begin(), gps_changed_.end(),
              [](const auto* a, const auto* b) { return GpKeyBefore(a->first, b->first); });
    for (auto* changed : gps_changed_) {
      const std::string& gp = changed->first;
      std::vector<int32_t>& days = changed->second;
      std::sort(days.begin(), days.end());
      for (const int32_t d : days) {
        const Date day{d};
        if (const Notes* notes = DayNotes(gp, day)) {
          sink.Put(DayKeyOf(gp, day), Encode(*notes));
          days_stored_.emplace(gp, d);
        } else if (days_stored_.erase(DayKey(gp, d)) != 0) {
          sink.Delete(DayKeyOf(gp, day));
        }
      }
    }
    gps_changed_.clear();
    days_changed_.clear();
  }

  void Clear() override {
    table_.Clear();
    for (auto& fold : folds_) fold->Clear();
    dirty_.Clear();
    days_changed_.clear();
    days_stored_.clear();
    unwritten_ = true;
  }

  // Not attached: applies `change` to a patient's status; copies and marks it for writing
  // only if that changed something.
  template <class Change>
  void Update(const std::string& gp, std::string_view person, Change change) {
    const std::optional<Status> p = GetPatient(gp, person);
    if (!p) return;  // not tracked (see Apply in the header)
    PatientStatus next = *p ? **p : PatientStatus{};
    change(next);
    if (*p ? next == **p : next.idle()) return;
    OwnPatient(gp, person).status = next.idle() ? nullptr : std::make_shared<PatientStatus>(std::move(next));
  }

  // Adds the patient (or replaces their status); attached, counts them (their row is the
  // fold's).
  void Insert(const std::string& gp, std::string_view person, std::shared_ptr<PatientStatus> status) {
    if (stored_) {
      ++OwnGp(gp).patients;
      return;
    }
    MarkDirty(gp, person);
    GpEntry& g = OwnGp(gp);
    Bucket& bucket = Own(g.buckets[BucketOf(person)]);
    auto at = FindIn(bucket, person);
    if (at == bucket.end() || at->id.view() != person) {
      at = bucket.insert(at, Patient{PersonKey(person), nullptr});
      ++g.patients;
    }
    at->status = std::move(status);
  }

  // Takes the patient, with their results, out of the GP; drops a GP left without
  // patients. nullopt: not a patient of this GP. Attached, the status is the fold's (null
  // here).
  std::optional<std::shared_ptr<PatientStatus>> Remove(const std::string& gp, std::string_view person,
                                                       Notes& moved) {
    std::optional<Status> status;
    if (stored_) {
      if (FindGp(gp) == nullptr) return std::nullopt;  // never, for a person with a GP
      status = nullptr;
    } else {
      status = GetPatient(gp, person);
      if (!status) return std::nullopt;
      OwnPatient(gp, person);
      Bucket& bucket = *OwnGp(gp).buckets[BucketOf(person)];
      bucket.erase(FindIn(bucket, person));
    }
    GpEntry& g = OwnGp(gp);
    --g.patients;
    auto mine = [&](const ResultNote& n) { return n.person.view() == person; };
    for (auto& [day, day_notes] : g.results) {
      if (std::none_of(day_notes->begin(), day_notes->end(), mine)) continue;
      Notes& all = Own(day_notes);
      for (const ResultNote& n : all) {
        if (!mine(n)) continue;
        moved.push_back(n);
      }
      std::erase_if(all, mine);
      DayChanged(gp, day);
    }
    std::erase_if(g.results, [](const auto& d) { return d.second->empty(); });
    // Notes exist only for the GP's patients: none is left when the last one leaves.
    if (g.patients == 0) table_.Erase(gp);
    return status;
  }

  // Adds a result of one of the GP's patients to its report day, unless that day is
  // older than the days kept. Attached, the caller knows the person is a patient.
  void AddNote(const std::string& gp, const ResultNote& note) {
    if (!stored_ && !GetPatient(gp, note.person.view())) return;
    GpEntry& g = OwnGp(gp);
    auto& days = g.results;
    if (!days.empty() && days.back().first - note.day >= kResultDays) return;
    DayChanged(gp, note.day);
    // The days no longer kept once the note's is (never the note's own: above) are dropped
    // before its day is made, so that the last one's notes, unless a snapshot shares them,
    // become the new day's, their buffer kept. Why: freeing a day of notes and growing the
    // next one's from empty was ~40 % of AddNote (docs/benchmarks.md, session 31).
    const Date newest = days.empty() ? note.day : std::max(days.back().first, note.day);
    std::shared_ptr<Notes> spare;
    while (!days.empty() && newest - days.front().first >= kResultDays) {
      DayDropped(gp, days.front().first);
      spare = std::move(days.front().second);
      days.erase(days.begin());
    }
    // Only a buffer its day half filled (give or take a few notes): as the results per day
    // fall, the kept buffers follow them down rather than staying at the busiest day's size.
    std::shared_ptr<Notes>& slot = DaySlot(g, note.day);
    if (slot == nullptr && spare.use_count() == 1 && spare->capacity() <= 2 * spare->size() + 8) {
      slot = std::move(spare);
      Own(slot).clear();
    }
    InsertNote(Own(slot), note);
  }

  void Move(std::string_view person_id, const PersonRecord* person, const std::string& to) {
    const std::string from = person ? person->gp_id : std::string();
    if (from == to) return;
    Notes notes;
    std::optional<std::shared_ptr<PatientStatus>> status;
    if (!from.empty()) status = Remove(from, person_id, notes);
    if (!status && !stored_) status = person ? FromRecord(*rules_, *person) : nullptr;
    if (to.empty()) return;
    Insert(to, person_id, status ? std::move(*status) : nullptr);
    for (const ResultNote& note : notes) AddNote(to, note);
  }
};

GpView::GpView(std::shared_ptr<const domain::RuleBook> rules)
    : KeyedView("gps", std::make_unique<Impl>(std::move(rules))), impl_(static_cast<Impl*>(&table())) {}
GpView::~GpView() = default;

bool GpView::Impl::Load(std::string_view key, std::string_view value) {
  const size_t slash = key.find('/');
  if (slash == std::string_view::npos || slash == 0 || key.size() < slash + 4) return false;
  const std::string gp(key.substr(0, slash));
  const std::string_view kind = key.substr(slash + 1, 2), rest = key.substr(slash + 3);
  if (kind == "p/") {
    PatientStatus s;
    if (!Decode(value, s)) return false;
    for (const PendingSwab& p : s.pending) {
      if (p.kind > domain::SwabKind::kAntigen) return false;
    }
    if (stored_) {
      ++OwnGp(gp).patients;  // the row stays on disk (Attach)
    } else {
      auto status = s.idle() ? nullptr : std::make_shared<PatientStatus>(std::move(s));
      Insert(gp, rest, std::move(status));
    }
  } else if (kind == "r/") {
    const std::optional<Date> day = Date::Parse(rest);
    Notes notes;
    if (!day || !Decode(value, notes) || notes.empty()) return false;
    Notes& slot = Own(DaySlot(OwnGp(gp), *day));
    for (const ResultNote& note : notes) {
      if (note.day != *day || note.outcome > domain::Outcome::kInconclusive) return false;
      InsertNote(slot, note);
    }
    days_stored_.emplace(gp, day->days);
  } else {
    return false;
  }
  table_.ForgetChanges();  // restoring is not a change, nor anything to write
  dirty_.Clear();
  unwritten_ = false;  // what is stored is not all to write again
  return true;
}

bool GpView::ReadsRecord(const LogEvent&, const PersonRecord&) const { return impl_->stored_ == nullptr; }

void GpView::Apply(const LogEvent& e, const PersonRecord* person, PersistSink&) {
  Impl& s = *impl_;
  const std::string_view id = e.person_id;
  if (id.empty()) return;
  if (const auto* x = std::get_if<domain::GpAssigned>(&e.event)) {
    return s.Move(id, person, x->gp_id);
  }
  if (person == nullptr || person->gp_id.empty()) return;
  const std::string& gp = person->gp_id;
  if (s.stored_) {
    // The patient's row is the fold's: a change of it is a change of the GP (ChangedKeys),
    // when announced: owning the GP's entry for its stamp was ~100-200 instructions an
    // event of a catch-up, where nobody asks (docs/benchmarks.md, session 29).
    if (e.fold_changed && s.announce_) s.OwnGp(gp);
  } else {
    StatusChange(*s.rules_, e, *person, [&](auto change) { s.Update(gp, id, change); });
  }
  if (const auto* x = std::get_if<domain::ResultRecorded>(&e.event)) {
    s.AddNote(gp, {e.OwnDay(x->reported_at), e.envelope.position, InlineId<39>(id), InlineId<40>(x->swab_id),
                   x->outcome, false});
  } else if (const auto* x = std::get_if<domain::ResultCorrected>(&e.event)) {
    s.AddNote(gp, {e.OwnDay(x->corrected_at), e.envelope.position, InlineId<39>(id), InlineId<40>(x->swab_id),
                   x->outcome, true});
  }
}

void GpView::AnnounceChanges(bool on) { impl_->announce_ = on; }

void GpView::Attach(std::shared_ptr<const StoredEntries> entries) { impl_->stored_ = std::move(entries); }

std::vector<PersonFold*> GpView::PersonFolds(size_t n) {
  Impl& s = *impl_;
  s.folds_.clear();
  std::vector<PersonFold*> out;
  if (!s.stored_) return out;
  for (size_t p = 0; p < std::max<size_t>(n, 1); ++p) {
    s.folds_.push_back(std::make_unique<PatientRows>(s.rules_));
    out.push_back(s.folds_.back().get());
  }
  return out;
}

}  // namespace caseledger::projections
