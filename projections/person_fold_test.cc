// One fold: the views' person record and the domain's aggregate move the facts they share
// (residence, GP, enrolments, doses, clinical status, the episode) by the same rules, and
// agree on every swab and running measure. Random event sequences of one person, folded by
// domain::Evolve and by the directory the way the runner folds them (effects from the record
// before each event, then the event), compared after every event.
#include "domain/person.h"
#include "projections/person_directory.h"
#include "projections/views_test_support.h"

#include <gtest/gtest.h>

#include <iostream>
#include <random>

namespace caseledger::projections {
namespace {

using namespace caseledger::projections::testing;
using domain::Date;

class RandomPerson {
 public:
  explicit RandomPerson(uint32_t seed) : rng_(seed) {}

  // The next event of the person: any event the registry could record, chosen against the
  // aggregate as it stands (a result for a swab requested, an end for a measure running, a
  // closure for an open case), with dates that wander back and forth. Some are odd on
  // purpose (a correction to the same outcome, a discharge of someone not in hospital).
  domain::Event Next(const domain::PersonState& s) {
    day_ = day_ + (Roll(3) - 1);
    switch (Roll(17)) {
      case 0:
        return domain::ResidenceChanged{s.residence_istat, Pick({"001272", "001156", "004003"}), {}};
      case 1:
        return domain::GpAssigned{Pick({"GP0001", "GP0002"}), s.gp_id};
      case 2:
        return domain::SchoolEnrolled{"TOIC81000A", Pick({"1A", "2B"}), domain::SchoolRole::kStudent};
      case 3:
        return domain::SchoolLeft{"TOIC81000A", Pick({"1A", "2B"}), domain::SchoolRole::kStudent};
      case 4:
      case 5:
        return domain::SwabRequested{"SW-" + std::to_string(++swabs_),
                                     Roll(3) ? domain::SwabKind::kMolecular : domain::SwabKind::kAntigen,
                                     "symptoms", "GP0001", At(day_, 8)};
      case 6: {
        for (const auto& w : s.swabs) {
          if (!w.collected) return domain::SwabCollected{w.swab_id, At(day_ + -Roll(2), 9), "site", "LAB01"};
        }
        break;
      }
      case 7:
      case 8: {
        const auto* w = AnySwab(s, [](const domain::SwabState& w) { return w.collected && !w.outcome; });
        if (w) return domain::ResultRecorded{w->swab_id, AnOutcome(), "LAB01", At(day_, 10)};
        break;
      }
      case 9: {
        const auto* w = AnySwab(s, [](const domain::SwabState& w) { return w.outcome.has_value(); });
        if (w) return domain::ResultCorrected{w->swab_id, *w->outcome, AnOutcome(), "error", "LAB01", At(day_, 11)};
        break;
      }
      case 10: {
        const uint32_t id = static_cast<uint32_t>(s.measures.size() + 1);
        std::optional<Date> end;
        if (Roll(3) == 0) end = day_ + 1 + Roll(10);
        if (Roll(2)) return domain::IsolationOrdered{id, day_, Roll(2) ? "positive" : "symptomatic", end};
        return domain::QuarantineOrdered{id, day_, "close_contact", PersonId(2), end};
      }
      case 11: {
        for (const auto& m : s.measures) {
          if (m.active() && Roll(2)) return domain::MeasureEnded{m.id, day_, domain::MeasureEndReason::kElapsed};
        }
        break;
      }
      case 12:
        return domain::VaccinationRecorded{static_cast<uint32_t>(s.doses.size() + 1), day_, "Comirnaty"};
      case 13:
        return domain::Hospitalized{At(day_, 12), "H01"};
      case 14:
        return domain::IcuAdmitted{At(day_, 13), "H01"};
      case 15:
        return domain::Discharged{At(day_, 14), "H01"};
      case 16:
        if (s.case_open) {
          return domain::CaseClosed{Roll(12) ? domain::CaseOutcome::kRecovered : domain::CaseOutcome::kDeceased,
                                    day_ + Roll(3)};
        }
        break;
    }
    return domain::SwabRequested{"SW-" + std::to_string(++swabs_), domain::SwabKind::kMolecular, "contact",
                                 "GP0002", At(day_, 8)};
  }
  Date day() const { return day_; }

 private:
  int Roll(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  std::string Pick(std::initializer_list<const char*> options) { return options.begin()[Roll(options.size())]; }
  domain::Outcome AnOutcome() {
    int r = Roll(10);
    return r < 4 ? domain::Outcome::kPositive : r < 9 ? domain::Outcome::kNegative : domain::Outcome::kInconclusive;
  }
  template <class Pred>
  const domain::SwabState* AnySwab(const domain::PersonState& s, Pred pred) {
    std::vector<const domain::SwabState*> found;
    for (const auto& w : s.swabs) {
      if (pred(w)) found.push_back(&w);
    }
    return found.empty() ? nullptr : found[Roll(found.size())];
  }

  std::mt19937 rng_;
  Date day_ = D("2020-10-01");
  int swabs_ = 0;
};

// How often the episodes of the sequences moved, so that the test knows it was not trivial.
struct Moves {
  int opened = 0, reopened = 0, closed = 0, died = 0, taken_back = 0;
};

// Folds one random sequence both ways and compares after every event.
void FoldBothWays(uint32_t seed, Moves& moves) {
  SCOPED_TRACE("seed " + std::to_string(seed));
  RandomPerson person(seed);
  PersonDirectory directory(Rules());
  domain::PersonState state;
  const std::string id = PersonId(1);
  std::vector<Effect> effects;
  std::shared_ptr<const PersonRecord> before;
  for (uint64_t position = 1; position <= 400; ++position) {
    domain::Event event = position == 1 ? domain::Event{domain::PersonRegistered{id, domain::Sex::kFemale, "001272", {}}}
                                        : person.Next(state);
    domain::Envelope env;
    env.position = position;
    env.stream = domain::PersonStream(id);
    env.type = std::string(domain::TypeName(event));
    env.effective_at = At(person.day(), 9);
    const bool was_open = state.case_open;
    const bool had_closure = state.last_closure.has_value();
    domain::Evolve(state, event);
    effects.clear();
    ASSERT_NO_THROW(directory.Step(LogEvent{env, event, id}, before, effects)) << env.type << " at " << position;
    const bool closing = std::holds_alternative<domain::CaseClosed>(event);
    moves.opened += !was_open && state.case_open;
    moves.reopened += !was_open && state.case_open && had_closure;
    moves.closed += was_open && !state.case_open && closing;
    moves.died += was_open && closing && state.deceased();
    moves.taken_back += was_open && !state.case_open && !closing;

    const PersonRecord& record = *directory.Find(id);
    ASSERT_EQ(static_cast<const domain::PersonFacts&>(record), static_cast<const domain::PersonFacts&>(state))
        << env.type << " at " << position;
    ASSERT_EQ(record.swabs.size(), state.swabs.size());
    for (size_t i = 0; i < state.swabs.size(); ++i) {
      const domain::SwabState& w = state.swabs[i];
      const SwabRecord& r = record.swabs[i];
      EXPECT_EQ(r.id_hash, SwabIdHash(w.swab_id));
      EXPECT_EQ(r.kind, w.kind);
      EXPECT_EQ(r.collected, w.collected);
      EXPECT_EQ(r.collected_at, w.collected_at.micros);
      EXPECT_EQ(r.reported(), w.outcome.has_value());
      if (w.outcome) {
        EXPECT_EQ(r.outcome, static_cast<uint8_t>(*w.outcome));
      }
    }
    std::vector<const domain::MeasureState*> running;
    for (const auto& m : state.measures) {
      if (m.active()) running.push_back(&m);
    }
    ASSERT_EQ(record.measures.size(), running.size()) << env.type << " at " << position;
    for (size_t i = 0; i < running.size(); ++i) {
      const ActiveMeasure& a = record.measures[i];
      EXPECT_EQ(a.measure_id, running[i]->id);
      EXPECT_EQ(a.isolation, running[i]->kind == domain::MeasureKind::kIsolation);
      EXPECT_EQ(a.start, running[i]->start);
      EXPECT_EQ(a.given_end, running[i]->given_end);
      EXPECT_EQ(a.reason, running[i]->reason);
    }
    // What only the views keep follows the same episode.
    EXPECT_EQ(record.case_reported_on.has_value(), state.case_open);
    if (!state.case_open) {
      EXPECT_TRUE(record.spells.empty());
    }
    // And it survives the database.
    PersonRecord back;
    ASSERT_TRUE(PersonDirectory::Decode(PersonDirectory::Encode(record), back));
    EXPECT_EQ(PersonDirectory::Encode(back), PersonDirectory::Encode(record));
  }
}

TEST(PersonFoldTest, RecordKeepsTheDomainsFacts) {
  Moves moves;
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    FoldBothWays(seed, moves);
    if (::testing::Test::HasFatalFailure()) return;
  }
  // The sequences are not trivial: cases open, close (some by death), reopen after a
  // recovery and are taken back by a correction.
  std::cout << moves.opened << " cases opened, " << moves.reopened << " reopened, " << moves.closed << " closed ("
            << moves.died << " deaths), " << moves.taken_back << " taken back\n";
  EXPECT_GT(moves.opened, 80);
  EXPECT_GT(moves.reopened, 20);
  EXPECT_GT(moves.died, 2);
  EXPECT_GT(moves.taken_back, 5);
}

}  // namespace
}  // namespace caseledger::projections
