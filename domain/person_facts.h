// The facts of a person that both folds of a person stream keep: the aggregate's
// (PersonState, what Decide checks) and the views' (projections::PersonRecord, what every
// view reads). Both states are a PersonFacts plus what is their own (the aggregate: ids,
// personal data, every swab and measure in full; the views: compact swabs, the running
// measures with their planned end, the open case's spells), and both move these facts with
// the rules below, so that the registry and its views cannot disagree on residence, GP,
// enrolments, doses, clinical status or whether a case is open. Pure: no clock, no I/O.
//
// Swabs are kept by each state in its own shape (the aggregate needs their ids and labs, the
// views a 23-byte record per swab), so the episode rule reads them through a function
// (LastPositive) and the fold that keeps them settles the episode after each result
// (PersonFacts::Settle).
#pragma once

#include "domain/events.h"
#include "domain/rules.h"
#include "domain/time.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace caseledger::domain {

struct Enrolment {
  std::string school;
  std::string class_label;
  SchoolRole role = SchoolRole::kStudent;
  bool operator==(const Enrolment&) const = default;
};

// Whether a case is open, and the collection day of the last positive swab it rests on.
struct Episode {
  std::optional<Date> last_positive;
  bool open = false;
  bool operator==(const Episode&) const = default;
};

struct PersonFacts {
  std::string residence_istat;
  std::string gp_id;
  std::vector<Enrolment> enrolments;
  std::vector<Dose> doses;
  bool hospitalized = false;
  bool in_icu = false;
  // An episode opens with a positive result and closes with CaseClosed; a later positive
  // opens a new episode (reinfection). Death is final.
  bool case_open = false;
  std::optional<CaseOutcome> last_closure;
  std::optional<Date> closed_on;
  std::optional<Date> last_positive;  // collection day of the last positive swab

  bool deceased() const { return last_closure == CaseOutcome::kDeceased; }
  // The recovery ClassifyVaccination counts: only the last closure is kept.
  std::optional<Date> last_recovery() const {
    return last_closure == CaseOutcome::kRecovered ? closed_on : std::nullopt;
  }
  // The episode rule. The episode follows the results as they stand now (a positive
  // corrected to negative no longer holds a case open): a case is open while a positive
  // swab was collected after the last closure (or there was none), unless the person died.
  // `last_positive`: the collection day of the last positive swab (LastPositive).
  Episode EpisodeWith(std::optional<Date> last_positive) const {
    Episode ep{last_positive, false};
    ep.open = !deceased() && last_positive && (!closed_on || *last_positive > *closed_on);
    return ep;
  }
  void Settle(const Episode& ep) {
    case_open = ep.open;
    last_positive = ep.last_positive;
  }
  bool operator==(const PersonFacts&) const = default;
};

// The collection day of the last positive swab of `swabs`, where `positive_day(swab)` is a
// swab's collection day when its outcome is positive, else nullopt.
template <class Swabs, class PositiveDay>
std::optional<Date> LastPositive(const Swabs& swabs, PositiveDay positive_day) {
  std::optional<Date> last;
  for (const auto& swab : swabs) {
    std::optional<Date> day = positive_day(swab);
    if (day && (!last || *last < *day)) last = day;
  }
  return last;
}

// The rules of the facts, one overload per event that moves them (the others do not). A
// fold visits an event with a visitor derived from this one (`using FactsApplier::operator()`),
// overriding an overload when it keeps more (it then calls this one for the facts). Results
// and corrections change a swab first: the fold that keeps the swabs settles the episode
// (PersonFacts::Settle) once its swab has the new outcome.
struct FactsApplier {
  PersonFacts& facts;

  void operator()(const PersonRegistered& e) { facts.residence_istat = e.residence_istat; }
  void operator()(const ResidenceChanged& e) { facts.residence_istat = e.to_istat; }
  void operator()(const GpAssigned& e) { facts.gp_id = e.gp_id; }
  void operator()(const SchoolEnrolled& e) { facts.enrolments.push_back({e.school, e.class_label, e.role}); }
  void operator()(const SchoolLeft& e) {
    std::erase_if(facts.enrolments, [&](const Enrolment& en) {
      return en.school == e.school && en.class_label == e.class_label;
    });
  }
  void operator()(const VaccinationRecorded& e) { facts.doses.push_back({static_cast<int>(e.dose), e.date}); }
  void operator()(const Hospitalized&) { facts.hospitalized = true; }
  void operator()(const IcuAdmitted&) {
    facts.hospitalized = true;
    facts.in_icu = true;
  }
  void operator()(const Discharged&) {
    facts.hospitalized = false;
    facts.in_icu = false;
  }
  void operator()(const CaseClosed& e) {
    facts.case_open = false;
    facts.last_closure = e.outcome;
    facts.closed_on = e.at;
    facts.hospitalized = false;
    facts.in_icu = false;
  }
  template <class Other>
  void operator()(const Other&) {}
};

}  // namespace caseledger::domain
