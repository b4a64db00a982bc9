// Quarantine, isolation and school-class rules as effective-dated data.
//
// A RuleSet is one Italian rule period (ops/rules/<id>.json), recorded in the log as a
// RulesAdopted event in its canonical JSON form (ToJson) so that a replay is deterministic.
// A RuleBook orders the sets by effective date and answers which one is in force on a day.
//
// Day arithmetic, used everywhere in this file: the start day S is day 0, and a measure
// "for N days" ends on S + N. That end date is the day of release: a release test is taken
// on it ("test on the 10th day"), and a measure ending by time alone is over on it.
// Example: a close contact exposed on 2020-10-20 under the 12 Oct 2020 rules (14 days, or
// 10 days + negative test) ends on 2020-11-03, or from 2020-10-30 with a negative test.
//
// Everything here is pure (no clock, no I/O) and immutable once built; a const RuleSet or
// RuleBook may be shared between threads.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/error.h"
#include "domain/time.h"

namespace caseledger::domain {

enum class MeasureKind { kIsolation, kQuarantine };

enum class VaccinationStatus {
  kUnvaccinated,
  kPrimaryIncomplete,  // one dose, or dose 2 less than 14 days ago
  kPrimaryRecent,      // primary cycle complete, dose 2 at most 120 days ago
  kPrimaryOld,         // primary cycle complete, dose 2 more than 120 days ago
  kBoosted,            // a dose numbered 3 or more
  kRecoveredRecent,    // recovered at most 120 days ago
};

struct Dose {
  int number = 0;  // 1, 2: primary cycle; 3 and more: booster
  Date date{};
  bool operator==(const Dose&) const = default;
};

// The vaccination status on day `on`. Doses and recoveries dated after `on` are ignored.
// The primary cycle is two doses; it is complete from 14 days after dose 2 (day d2 + 14;
// before that the status is kPrimaryIncomplete), and recent while on - d2 <= 120, old from
// d2 + 121 (the circulars count the 120 days from the completion of the cycle, i.e. dose 2).
// A booster counts from its day. A recovery is recent while on - recovery <= 120.
// When several apply, the most protective wins, in this order: kBoosted, kPrimaryRecent,
// kRecoveredRecent, kPrimaryOld, kPrimaryIncomplete, kUnvaccinated.
// Simplifications: single-dose products (Janssen) and "recovered + one dose" are not
// recognised as a complete primary cycle; pass such a person's dose with number 2.
VaccinationStatus ClassifyVaccination(const std::vector<Dose>& doses,
                                      std::optional<Date> last_recovery, Date on);

// Reasons: isolation "positive" or "symptomatic" (start = first positive test or symptom
// onset); quarantine "close_contact", "travel" or "school_class" (start = last exposure).
// An unknown reason, or one of the other kind, is planned as the kind's default reason
// ("positive" for isolation, "close_contact" for quarantine).
struct MeasureQuery {
  MeasureKind kind = MeasureKind::kQuarantine;
  Date start{};
  std::string reason{};
  VaccinationStatus vaccination = VaccinationStatus::kUnvaccinated;
};

struct MeasurePlan {
  bool quarantine_required = true;  // false: only self-monitoring (autosorveglianza)
  // End by time alone, without any test. For isolation this is the persistent-positive
  // end (21 days, 14 from 31 Aug 2022), so end == max_end there. When no measure is
  // required, the day the self-monitoring and FFP2 obligations end.
  Date end{};
  std::optional<Date> release_with_test_from{};  // earliest end with a negative test
  Date max_end{};                                // hard end (>= end)
  int self_monitoring_days = 0;                  // self-monitoring until start + this (0: none)
  int ffp2_days = 0;  // FFP2 mask obligation until start + this (0: none)
  std::string rule_set_id{};
};

enum class ClassStatus { kInPresence, kClassQuarantine, kDistanceLearning, kInPresenceWithFfp2 };

// school_level: "infanzia", "primaria" or "secondaria" (derived elsewhere from the school
// code). positives_in_window: positive students of the class whose positive test falls in
// the `window_days` days up to `on` (see RuleSet::class_window_days).
struct ClassSituation {
  std::string school_level{};
  int positives_in_window = 0;
  Date on{};
};

struct ClassDecision {
  ClassStatus status = ClassStatus::kInPresence;
  int days = 0;                                  // length of the class measure (0 when in presence)
  std::optional<int> days_with_negative_test{};  // earlier end with a negative test
};

// ---- the data of a rule set (what ops/rules/*.json holds) ----

struct RuleSource {
  std::string name{};
  std::string url{};  // empty when not given
  bool operator==(const RuleSource&) const = default;
};

// One row of the measure table. A query matches the first row (in file order) whose kind
// is the query's, whose reasons contain the reason, and whose vaccination list contains the
// status (an empty list matches every status). Parse guarantees every kind/reason/status
// combination has a row.
struct MeasureRule {
  MeasureKind kind = MeasureKind::kQuarantine;
  std::vector<std::string> reasons{};
  std::vector<VaccinationStatus> vaccination{};  // empty: any
  bool quarantine_required = true;
  int days = 0;                                  // end by time alone: start + days
  std::optional<int> days_with_negative_test{};  // release with a negative test
  int max_days = 0;                              // hard end: start + max_days (>= days)
  int self_monitoring_days = 0;
  int ffp2_days = 0;
  std::string note{};
  bool operator==(const MeasureRule&) const = default;
};

// From `min_positives` positives in the window on, the class gets `status` for `days`.
struct ClassThreshold {
  int min_positives = 1;
  ClassStatus status = ClassStatus::kInPresence;
  int days = 0;
  std::optional<int> days_with_negative_test{};
  bool operator==(const ClassThreshold&) const = default;
};

// Thresholds per level, strictly increasing in min_positives; empty: always in presence.
struct SchoolRules {
  int window_days = 1;
  std::vector<ClassThreshold> infanzia{}, primaria{}, secondaria{};
  bool operator==(const SchoolRules&) const = default;
};

class RuleSet {
 public:
  // Parses and validates a rule set. Unknown fields are rejected. Every problem found is a
  // FieldError naming its JSON path ("measures[2].days", "school.primaria[0].status"; "$"
  // for the document itself, e.g. malformed JSON).
  static Result<RuleSet> Parse(std::string_view json);

  const std::string& id() const { return id_; }
  Date effective_from() const { return effective_from_; }
  const std::string& title() const { return title_; }
  const std::vector<RuleSource>& sources() const { return sources_; }
  const std::vector<std::string>& notes() const { return notes_; }
  const std::vector<MeasureRule>& measures() const { return measures_; }
  const SchoolRules& school() const { return school_; }
  int class_window_days() const { return school_.window_days; }

  // The plan for a measure under this set: dates per the day arithmetic above, from the
  // first matching row of measures(). Always answers (see MeasureQuery for reasons).
  MeasurePlan Plan(const MeasureQuery& q) const;
  // The class status from the highest threshold reached by s.positives_in_window; in
  // presence below the first, and for an unknown school level.
  ClassDecision DecideClass(const ClassSituation& s) const;

  // Canonical JSON: fixed key order, every defaulted field written out, no whitespace.
  // Parse(ToJson()) gives an equal RuleSet, and ToJson() of that is the same string.
  std::string ToJson() const;

  bool operator==(const RuleSet&) const = default;

 private:
  RuleSet() = default;  // only Parse builds one, so that every RuleSet is valid
  const MeasureRule& Match(MeasureKind kind, std::string_view reason,
                           VaccinationStatus vaccination) const;

  std::string id_;
  Date effective_from_;
  std::string title_;
  std::vector<RuleSource> sources_;
  std::vector<std::string> notes_;
  std::vector<MeasureRule> measures_;
  SchoolRules school_;
};

// The sequence of rule sets, ordered by effective_from; the set in force on a day is the
// last one with effective_from <= day. Not thread-safe for Add; const use is.
class RuleBook {
 public:
  // Conflict error on a duplicate id or a duplicate effective_from.
  [[nodiscard]] Result<void> Add(RuleSet set);
  // nullptr before the first set. The pointer is valid until the next Add.
  const RuleSet* InForce(Date day) const;
  const std::vector<RuleSet>& sets() const { return sets_; }

 private:
  std::vector<RuleSet> sets_;
};

// Names as used in the rule JSON: "isolation"/"quarantine"; "unvaccinated",
// "primary_incomplete", "primary_recent", "primary_old", "boosted", "recovered_recent";
// "in_presence", "class_quarantine", "distance_learning", "in_presence_with_ffp2".
const char* ToString(MeasureKind v);
const char* ToString(VaccinationStatus v);
const char* ToString(ClassStatus v);
std::optional<MeasureKind> ParseMeasureKind(std::string_view s);
std::optional<VaccinationStatus> ParseVaccinationStatus(std::string_view s);
std::optional<ClassStatus> ParseClassStatus(std::string_view s);

// The reasons a kind accepts, its default first.
const std::vector<std::string>& MeasureReasons(MeasureKind kind);

}  // namespace caseledger::domain
