#include "domain/person.h"

#include <algorithm>

namespace caseledger::domain {
namespace {

SwabState* MutableSwab(PersonState& s, const std::string& id) {
  return const_cast<SwabState*>(s.FindSwab(id));
}

// The facts move by FactsApplier (person_facts.h), shared with the views' record; the
// overloads here add what only the aggregate keeps.
struct Applier : FactsApplier {
  using FactsApplier::operator();
  PersonState& s;

  explicit Applier(PersonState& state) : FactsApplier{state}, s(state) {}

  void operator()(const PersonRegistered& e) {
    FactsApplier::operator()(e);
    s.registered = true;
    s.person_id = e.person_id;
    s.sex = e.sex;
    s.personal = e.personal;
  }
  void operator()(const ResidenceChanged& e) {
    FactsApplier::operator()(e);
    if (!e.personal.address.empty()) s.personal.address = e.personal.address;
  }
  void operator()(const SwabRequested& e) {
    SwabState swab;
    swab.swab_id = e.swab_id;
    swab.kind = e.kind;
    swab.reason = e.reason;
    swab.requested_by = e.requested_by;
    swab.requested_at = e.requested_at;
    s.swabs.push_back(std::move(swab));
  }
  void operator()(const SwabCollected& e) {
    if (SwabState* swab = MutableSwab(s, e.swab_id)) {
      swab->collected = true;
      swab->collected_at = e.collected_at;
      swab->holder_lab = e.lab_id;
    }
  }
  void operator()(const SampleHandedOver& e) {
    if (SwabState* swab = MutableSwab(s, e.swab_id)) swab->holder_lab = e.to_lab;
  }
  void operator()(const ResultRecorded& e) {
    SwabState* swab = MutableSwab(s, e.swab_id);
    if (!swab) return;
    swab->outcome = e.outcome;
    swab->lab_id = e.lab_id;
    swab->reported_at = e.reported_at;
    s.Settle(s.CurrentEpisode());
  }
  void operator()(const ResultCorrected& e) {
    SwabState* swab = MutableSwab(s, e.swab_id);
    if (!swab) return;
    swab->outcome = e.outcome;
    ++swab->corrections;
    s.Settle(s.CurrentEpisode());
  }
  void operator()(const IsolationOrdered& e) {
    s.measures.push_back({e.measure_id, MeasureKind::kIsolation, e.start, e.end, e.reason, {}, {}, {}});
  }
  void operator()(const QuarantineOrdered& e) {
    s.measures.push_back(
        {e.measure_id, MeasureKind::kQuarantine, e.start, e.end, e.reason, e.source_case, {}, {}});
  }
  void operator()(const MeasureEnded& e) {
    for (MeasureState& m : s.measures) {
      if (m.id == e.measure_id) {
        m.ended_on = e.at;
        m.end_reason = e.reason;
      }
    }
  }
  void operator()(const ContactReported& e) { s.contacts.push_back(e); }
  void operator()(const PersonalDataErased&) {
    s.erased = true;
    s.personal = Personal{};
  }
  // Events of other streams never reach a person; the rest change only the facts.
};

}  // namespace

Episode PersonState::CurrentEpisode() const {
  return EpisodeWith(LastPositive(swabs, [](const SwabState& swab) -> std::optional<Date> {
    if (swab.outcome != Outcome::kPositive) return std::nullopt;
    return swab.collected_at.ToDate();
  }));
}

const SwabState* PersonState::FindSwab(std::string_view swab_id) const {
  // From the newest: a swab is nearly always collected and reported soon after its request,
  // while a person tested again and again over the years holds dozens (a scan from the
  // oldest was ~2 % of the bulk load's CPU at 1:10). Ids are unique within a person
  // (RequestSwab refuses one already there), so the order finds the same swab.
  auto it = std::find_if(swabs.rbegin(), swabs.rend(),
                         [&](const SwabState& s) { return s.swab_id == swab_id; });
  return it == swabs.rend() ? nullptr : &*it;
}

const MeasureState* PersonState::FindMeasure(uint32_t id) const {
  auto it = std::find_if(measures.begin(), measures.end(),
                         [&](const MeasureState& m) { return m.id == id; });
  return it == measures.end() ? nullptr : &*it;
}

const MeasureState* PersonState::ActiveMeasure(MeasureKind kind) const {
  for (const MeasureState& m : measures) {
    if (m.kind == kind && m.active()) return &m;
  }
  return nullptr;
}

void Evolve(PersonState& state, const Event& event) {
  std::visit(Applier{state}, event);
  ++state.version;
}

}  // namespace caseledger::domain
