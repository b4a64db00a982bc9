// The school view (docs/api.md): per school (codice meccanografico) and class, the students and
// staff enrolled, how many of them are positive or in quarantine, and the class status on a
// given day by the rules in force that day. The school role sees this and nothing more
// (docs/security.md): counts and statuses, never a person id or a clinical detail.
#pragma once

#include "domain/rules.h"
#include "domain/time.h"
#include "projections/keyed_view.h"

#include <boost/json/object.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace caseledger::projections {

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

  // The school as of the last Publish, for `today`; nullopt for a school with no class.
  // Thread-safe: renders from one immutable snapshot, never blocks the writer.
  //
  // {"school": "TOIC81200X", "position": <last published position>, "day": "YYYY-MM-DD",
  //  "rule_set": <id in force on day> | null,
  //  "totals": {"students", "staff", "positive", "in_quarantine", "classes",
  //             "classes_not_in_presence"},
  //  "classes": [{"class": "3B", "level": "infanzia"|"primaria"|"secondaria",
  //               "students", "staff", "positive", "in_quarantine", "positives_in_window",
  //               "status": "in_presence"|"class_quarantine"|"distance_learning"|
  //                         "in_presence_with_ffp2",
  //               "status_source": "order"|"rules",
  //               "status_until": "YYYY-MM-DD"|null, "release_with_test_from": ...|null}]}
  // Classes sorted by label. Counts are of people enrolled in the class:
  // - positive: with an open case (the person directory's rule: a positive swab collected
  //   after the last closure; a correction to negative can close it);
  // - in_quarantine: with a quarantine of their own running on `day` (start <= day < end,
  //   the end the person directory fixes when it is ordered), plus, while the class status is
  //   class_quarantine, every other student who is not positive (staff only by their own
  //   measure: the health authority decides for teachers case by case);
  // - positives_in_window: students whose last positive swab was collected in the rule
  //   set's window_days up to `day`.
  // Status: an explicit ClassQuarantineOrdered running on `day` wins (start <= day < end;
  // end = the order's end, else start + the class-quarantine days of the rule set in force
  // at its start, else that set's "school_class" quarantine, else 14 days when no set is in
  // force). Otherwise the rule set in force on `day` decides: every positive day X of a
  // student is a trigger, DecideClass with the students' positives in the window ending on
  // X gives a status for `days` from X, and the most severe status still running on `day`
  // is reported (class_quarantine > distance_learning > in_presence_with_ffp2), with
  // status_until = X + days. Only students count as positives (the rules speak of pupils).
  std::optional<boost::json::object> SchoolJson(std::string_view school, domain::Date today) const;

  // What-if (replay/what_if.h): SchoolJson as it would be under the rule book `rules`, with
  // the members that `overlay` holds taken from it (a SchoolView fed with the events of
  // some people only, under `rules`: a member's entry depends on their own events alone)
  // and the class orders resolved again under `rules`. Thread-safe as SchoolJson.
  std::optional<boost::json::object> SchoolJsonUnder(std::string_view school, domain::Date today,
                                                     const domain::RuleBook& rules,
                                                     const SchoolView& overlay) const;
  // The schools with at least one member, sorted (as of the last Publish).
  std::vector<std::string> SchoolsWithMembers() const;
  // Every class quarantine order with the people of its class (as of the last Publish).
  struct ClassOrderRef {
    std::string school, class_label;
    domain::Date start;
    std::vector<std::string> members;
  };
  std::vector<ClassOrderRef> ClassOrders() const;

  // "infanzia", "primaria" or "secondaria" from the school type (characters 3-4 of the
  // code): AA infanzia, EE primaria, IC (istituto comprensivo) by the class year (1-5
  // primaria, 6-8 secondaria: an IC's lower-secondary classes should be registered as 6-8,
  // or better under their own MM plesso code, since a label like "2A" cannot tell a second
  // primary from a second lower-secondary class; IC infanzia sections cannot be told
  // apart either and count as primaria), every other type (MM, PS, PC, TF, IS, RI, ...)
  // secondaria.
  static std::string_view SchoolLevel(std::string_view school, std::string_view class_label);

 private:
  class Impl;
  Impl* impl_;  // the view's table (KeyedView owns it)
};

}  // namespace caseledger::projections
