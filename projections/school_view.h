// The school view (docs/api.md): per school (codice meccanografico) and class, the students and
// staff enrolled, how many of them are positive or in quarantine, and the class status on a
// given day by the rules in force that day. The school role sees this and nothing more
// (docs/security.md): counts and statuses, never a person id or a clinical detail.
#pragma once

#include "domain/rules.h"
#include "domain/school_class.h"
#include "domain/time.h"
#include "projections/keyed_view.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace caseledger::projections {

// One class of a school on a day (SchoolView::School). Counts are of people enrolled in
// the class:
// - positive: with an open case (the person directory's rule: a positive swab collected
//   after the last closure; a correction to negative can close it);
// - in_quarantine: with a quarantine of their own running on the day (start <= day < end,
//   the end the person directory fixes when it is ordered), plus, while the class status is
//   class_quarantine, every other student who is not positive (staff only by their own
//   measure: the health authority decides for teachers case by case).
// `day` is the class's status (domain::DecideClassDay): an explicit ClassQuarantineOrdered
// running on the day wins (its end: domain::ResolveClassOrder under the view's book),
// otherwise the rule set in force on the day decides from the students' positives.
struct ClassReport {
  std::string label;       // "3B"
  std::string_view level;  // domain::SchoolLevel: "infanzia", "primaria" or "secondaria"
  int students = 0;
  int staff = 0;
  int positive = 0;
  int in_quarantine = 0;
  domain::ClassDay day;
};

struct SchoolTotals {  // sums over the classes
  int students = 0;
  int staff = 0;
  int positive = 0;
  int in_quarantine = 0;
  size_t classes = 0;
  int classes_not_in_presence = 0;
};

// A school on a day, as of one published position.
struct SchoolReport {
  std::string school;  // "TOIC81200X"
  uint64_t position = 0;
  domain::Date day;
  std::optional<std::string> rule_set;  // id of the set in force on the day
  SchoolTotals totals;
  std::vector<ClassReport> classes;  // sorted by label
};

class SchoolView final : public KeyedView {
 public:
  // The rule book decides class statuses and the end of class quarantines ordered without
  // one. A RulesAdopted event does not change it: adopting rules rebuilds the views with a
  // new book (replay issue).
  explicit SchoolView(std::shared_ptr<const domain::RuleBook> rules);
  ~SchoolView() override;

  // Name "schools". Persisted entries: one per class, key "<school>/<class>" (e.g.
  // "TOIC81200X/3B"), value a format byte (2) then cereal binary of the class's members and
  // quarantine orders (with the end the order gave, if any), written once per batch by
  // Persist for each class the batch changed; a class left with neither is deleted. Load
  // puts the entry in the working state; readers see it after the next Publish.
  // ChangedKeys: the school codes changed since the last Publish, sorted.

  // Reacts to SchoolEnrolled/SchoolLeft (move people between classes; an enrolment takes
  // the open case, last positive and running quarantine from the person directory),
  // ClassQuarantineOrdered (school stream), and, for every class the person is enrolled
  // in, results and corrections, quarantines ordered and ended, and case closures.
  // Runner thread only.
  void Apply(const LogEvent& e, const PersonRecord* person, PersistSink& sink) override;
  // An enrolment (the pupil's case and quarantine), and of a person enrolled the events
  // Apply reacts to (results, corrections, quarantines ordered, measures ended, closures).
  bool ReadsRecord(const LogEvent& e, const PersonRecord& before) const override;
  // Enrolments, classes' orders, and what changes a pupil's figures.
  EventInterest Interest() const override;

  // The school as of the last Publish, for `today`; nullopt for a school with no class.
  // Thread-safe: reads one immutable snapshot, never blocks the writer.
  std::optional<SchoolReport> School(std::string_view school, domain::Date today) const;

  // What-if (replay/what_if.h): School as it would be under the rule book `rules`, with
  // the members that `overlay` holds taken from it (a SchoolView fed with the events of
  // some people only, under `rules`: a member's entry depends on their own events alone)
  // and the class orders resolved again under `rules`. Thread-safe as School.
  std::optional<SchoolReport> SchoolUnder(std::string_view school, domain::Date today,
                                          const domain::RuleBook& rules, const SchoolView& overlay) const;
  // The schools with at least one member, sorted (as of the last Publish).
  std::vector<std::string> SchoolsWithMembers() const;
  // Every class quarantine order with the people of its class (as of the last Publish).
  struct ClassOrderRef {
    std::string school, class_label;
    domain::Date start;
    std::vector<std::string> members;
  };
  std::vector<ClassOrderRef> ClassOrders() const;

 private:
  class Impl;
  Impl* impl_;  // the view's table (KeyedView owns it)
};

}  // namespace caseledger::projections
