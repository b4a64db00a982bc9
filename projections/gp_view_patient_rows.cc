// The GP view's patient rows folded with their person's record (PersonFold), one fold per
// person partition, when the view is attached (gp_view.h): a patient's status is the
// fold's state of the person, written with their record and as the row "<gp>/p/<person>".
#include "projections/gp_view_status.h"
#include "projections/memory_estimate.h"

#include <algorithm>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace caseledger::projections::gp_rows {
namespace {

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
        if (now->idle()) Recycle(*state);
      } else if (now == nullptr && !spare_.empty()) {
        // Made in a spare status (Recycle), idle and the fold's alone: its buffers kept.
        PatientStatus& next = *spare_.back();
        if (!change(next)) return;
        if (!next.idle()) {
          *state = std::move(spare_.back());
          spare_.pop_back();
        }
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
    std::vector<Status>().swap(spare_);
  }
  // Every person with a GP has one row, their status: made from their last entry alone.
  std::unique_ptr<PersonRowsAtEnd> RowsAtEnd() const override { return MakeRowsAtEnd(); }
  void ForgetChanges() override { left_.clear(); }

 private:
  using Status = std::shared_ptr<PatientStatus>;
  static Status Of(const FoldState& state) { return std::static_pointer_cast<PatientStatus>(state); }
  static size_t HeapBytes(const std::string& s) { return s.capacity() > 15 ? AllocatedBytes(s.capacity() + 1) : 0; }

  // A status gone idle that the fold alone holds (a patient's last pending swab reported,
  // their last measure ended): kept, cleared with its buffers, for the next patient who
  // needs one, rather than freed (up to kSpares). Why: a status made at a swab request, its
  // pending list grown from empty, and freed at the result was ~45 of this fold's ~250
  // instructions an event (docs/benchmarks.md, session 32). Idle is null in the entry still.
  void Recycle(FoldState& state) {
    if (spare_.size() < kSpares) {
      Status status = std::static_pointer_cast<PatientStatus>(std::move(state));
      status->case_open = false;
      status->measures.clear();
      status->pending.clear();
      spare_.push_back(std::move(status));
    }
    state = nullptr;
  }
  static constexpr size_t kSpares = 64;
  std::vector<Status> spare_;  // each idle (equal to PatientStatus{}) and held here alone

  std::shared_ptr<const domain::RuleBook> rules_;
  // (GP, patient) a patient left since the last Persist (GpAssigned): its row is deleted.
  // The rows changed are the people this fold changed (PersonDirectory::FoldChanged).
  using Left = std::pair<std::string, PersonKey>;
  std::vector<Left> left_;
};

}  // namespace

std::unique_ptr<PersonFold> MakePatientRows(std::shared_ptr<const domain::RuleBook> rules) {
  return std::make_unique<PatientRows>(std::move(rules));
}

}  // namespace caseledger::projections::gp_rows
