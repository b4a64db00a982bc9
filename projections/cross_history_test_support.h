// Test support: random histories rich in events that span people (GP changes between five
// GPs, enrolments in and departures from classes of two schools, class quarantines on the
// school streams, contacts, corrections of results, residence changes, measures ordered
// and ended), made through Decide so that every event is one the registry could record.
// Used by the pipeline's and the what-if's property tests. DecidedHistory, the machinery
// under it, also makes property_test's histories of people alone.
#pragma once

#include "domain/person.h"
#include "domain/school.h"
#include "projections/views_test_support.h"

#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace caseledger::projections::testing {

constexpr const char* kPlaces[] = {"001272", "001156", "005005", "004078"};
constexpr const char* kSchools[] = {"TOEE81201N", "TOIC81200X"};
constexpr const char* kClasses[] = {"1A", "3B", "5C"};

// A random history made through Decide (fixed seed): each step moves the clock 1 to
// `max_step_minutes` minutes on, registers a person (always while fewer than `min_people`
// are registered, else one step in `register_one_in`), or gives a derived class its own
// step (Interlude), or decides the derived class's Command for a random person. Each
// accepted command is one append of its person's stream, kept in order in appends().
class DecidedHistory {
 public:
  virtual ~DecidedHistory() = default;

  // Steps until the commands decided made `events` events.
  void Run(uint64_t events) {
    while (events_ < events) Step();
  }
  const std::vector<std::pair<std::string, std::vector<Timed>>>& appends() const { return appends_; }
  uint64_t events() const { return events_; }
  const std::vector<domain::PersonState>& people() const { return people_; }
  domain::Date today() const { return now_.ToDate(); }

 protected:
  DecidedHistory(uint64_t seed, int max_step_minutes, size_t min_people, int register_one_in)
      : rng_(seed), max_step_(max_step_minutes), min_people_(min_people), register_one_in_(register_one_in) {}

  // The registration of the next person (its residence drawn by the derived class).
  virtual domain::RegisterPerson Registration() = 0;
  // A step of the derived class's own, taken before a person is drawn; true when it took one.
  virtual bool Interlude() { return false; }
  // The next command for `p`; nullopt: none this step.
  virtual std::optional<domain::PersonCommand> Command(const domain::PersonState& p) = 0;

  int Roll(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  template <class T>
  const T* Pick(const std::vector<T>& v, auto&& ok) {
    std::vector<const T*> c;
    for (const T& x : v) {
      if (ok(x)) c.push_back(&x);
    }
    return c.empty() ? nullptr : c[Roll(static_cast<int>(c.size()))];
  }
  // Appends one event that no person's Decide makes (a school stream's, say).
  void AppendOther(std::string stream, std::vector<Timed> events) {
    events_ += events.size();
    appends_.push_back({std::move(stream), std::move(events)});
  }

  domain::Timestamp now_ = At("2020-10-13", 8);
  int swabs_ = 0;

 private:
  void Step() {
    now_.micros += (1 + Roll(max_step_)) * 60'000'000LL;
    domain::DecideContext ctx;
    ctx.now = now_;
    ctx.reference = Reference().get();
    if (people_.size() < min_people_ || Roll(register_one_in_) == 0) {
      ctx.new_person_id = PersonId(static_cast<int>(people_.size()) + 1);
      const domain::RegisterPerson c = Registration();
      people_.emplace_back();
      if (!Decide(people_.back(), c, ctx)) people_.pop_back();
      return;
    }
    if (Interlude()) return;
    domain::PersonState& p = people_[Roll(static_cast<int>(people_.size()))];
    if (auto command = Command(p)) Decide(p, *command, ctx);
  }

  bool Decide(domain::PersonState& p, const domain::PersonCommand& c, const domain::DecideContext& ctx) {
    auto d = domain::Decide(p, c, ctx);
    if (!d) return false;
    std::vector<Timed> events;
    for (const auto& e : d->events) events.push_back({e.event, e.effective_at});
    const std::string id = p.registered ? p.person_id : ctx.new_person_id;
    events_ += events.size();
    appends_.emplace_back(domain::PersonStream(id), std::move(events));
    for (const auto& e : d->events) domain::Evolve(p, e.event);
    return true;
  }

  std::mt19937_64 rng_;
  int max_step_;
  size_t min_people_;
  int register_one_in_;
  std::vector<std::pair<std::string, std::vector<Timed>>> appends_;
  uint64_t events_ = 0;
  std::vector<domain::PersonState> people_;
};

// Histories rich in events that span people (see the top of this file).
class CrossHistory final : public DecidedHistory {
 public:
  // Events come 1 to `max_step_minutes` minutes apart (a longer step spreads the history
  // over more days, and over more rule sets); a person registers at one step in
  // `register_one_in` (more people, fewer events each: more than a small cache holds).
  explicit CrossHistory(uint64_t seed, int max_step_minutes = 90, int register_one_in = 25)
      : DecidedHistory(seed, max_step_minutes, 12, register_one_in) {}

 private:
  domain::RegisterPerson Registration() override {
    return {"", "Bianchi", "Luca", D("2012-03-01"), domain::Sex::kMale, kPlaces[Roll(4)], "", ""};
  }

  bool Interlude() override {
    if (Roll(40) != 0) return false;
    // A class quarantine on a school stream.
    const std::string school = kSchools[Roll(2)];
    domain::ClassQuarantineOrdered q{kClasses[Roll(3)], today() + -Roll(3), "positive_in_class",
                                     Roll(3) ? std::nullopt : std::optional<domain::Date>(today() + 7)};
    AppendOther(domain::SchoolStream(school), {{q, now_}});
    return true;
  }

  std::optional<domain::PersonCommand> Command(const domain::PersonState& p) override {
    const domain::Date today = now_.ToDate();
    using namespace domain;
    const int r = Roll(100);
    if (r < 16) return RequestSwab{"SW-" + std::to_string(++swabs_), Roll(3) ? SwabKind::kMolecular : SwabKind::kAntigen, "", "", {}};
    if (r < 30) {
      if (auto* s = Pick(p.swabs, [](const SwabState& s) { return !s.collected; })) return CollectSwab{s->swab_id, now_, "site", Roll(2) ? "LAB01" : "LAB-TO2"};
      return std::nullopt;
    }
    if (r < 46) {
      if (auto* s = Pick(p.swabs, [](const SwabState& s) { return s.collected && !s.outcome; })) {
        const int o = Roll(10);
        return RecordResult{s->swab_id, o < 4 ? Outcome::kPositive : o < 9 ? Outcome::kNegative : Outcome::kInconclusive,
                            s->holder_lab, now_};
      }
      return std::nullopt;
    }
    if (r < 52) {
      if (auto* s = Pick(p.swabs, [](const SwabState& s) { return s.outcome.has_value(); })) {
        return CorrectResult{s->swab_id, *s->outcome == Outcome::kPositive ? Outcome::kNegative : Outcome::kPositive,
                             "lab error", ""};
      }
      return std::nullopt;
    }
    if (r < 57) return OrderIsolation{p.last_positive.value_or(today + -Roll(3)), "positive", std::nullopt};
    if (r < 62) return OrderQuarantine{today + -Roll(4), "close_contact", "", std::nullopt};
    if (r < 66) {
      if (auto* m = Pick(p.measures, [](const MeasureState& m) { return m.active(); })) {
        return EndMeasure{m->id, std::max(m->start, today + -Roll(3)), MeasureEndReason::kNegativeTest};
      }
      return std::nullopt;
    }
    if (r < 68) return Hospitalize{now_, "H1"};
    if (r < 70) return Discharge{now_, "H1"};
    if (r < 73) return CloseCase{Roll(10) ? CaseOutcome::kRecovered : CaseOutcome::kDeceased, today};
    if (r < 76) return ChangeResidence{kPlaces[Roll(4)], ""};
    if (r < 84) return AssignGp{"GP" + std::to_string(1000 + Roll(5))};
    if (r < 90) return EnrolInSchool{kSchools[Roll(2)], kClasses[Roll(3)], Roll(6) ? SchoolRole::kStudent : SchoolRole::kStaff};
    if (r < 94) {
      if (p.enrolments.empty()) return std::nullopt;
      const auto& e = p.enrolments[Roll(static_cast<int>(p.enrolments.size()))];
      return LeaveSchool{e.school, e.class_label};
    }
    if (r < 98) return ReportContact{PersonId(1 + Roll(static_cast<int>(people().size()))), today + -Roll(2)};
    return RecordVaccination{static_cast<uint32_t>(p.doses.size() + 1), today, "Comirnaty"};
  }
};

}  // namespace caseledger::projections::testing
