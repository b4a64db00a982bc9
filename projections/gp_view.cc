#include "projections/gp_view.h"

#include "projections/gp_view_rows.h"
#include "projections/gp_view_status.h"

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

using namespace gp_rows;  // the rows this view keeps

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
  std::vector<std::unique_ptr<PersonFold>> folds_;  // MakePatientRows
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
    for (auto& fold : folds_) fold->ForgetChanges();
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

EventInterest GpView::Interest() const {
  uint64_t types = EventTypes<domain::GpAssigned, domain::ResultRecorded, domain::ResultCorrected>();
  // The events StatusChange changes a status for: Apply changes the view for them when not
  // attached, or announces their GP when attached (fold_changed).
  if (impl_->stored_ == nullptr || impl_->announce_) {
    types |= EventTypes<domain::SwabRequested, domain::SwabCollected, domain::IsolationOrdered,
                        domain::QuarantineOrdered, domain::MeasureEnded, domain::CaseClosed>();
  }
  return {types, false};
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
    s.folds_.push_back(MakePatientRows(s.rules_));
    out.push_back(s.folds_.back().get());
  }
  return out;
}

}  // namespace caseledger::projections
