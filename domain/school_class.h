// A class's status by the rules (docs/api.md, the school view): the school level a class
// belongs to, the end of an explicit class quarantine, and the status of a class on a day
// from its orders and its students' positive days. Pure functions of their arguments; the
// school view (projections/school_view.h) keeps the members and orders they read.
#pragma once

#include "domain/rules.h"
#include "domain/time.h"

#include <optional>
#include <string_view>
#include <vector>

namespace caseledger::domain {

// "infanzia", "primaria" or "secondaria" from the school type (characters 3-4 of the
// code): AA infanzia, EE primaria, IC (istituto comprensivo) by the class year (1-5
// primaria, 6-8 secondaria: an IC's lower-secondary classes should be registered as 6-8,
// or better under their own MM plesso code, since a label like "2A" cannot tell a second
// primary from a second lower-secondary class; IC infanzia sections cannot be told
// apart either and count as primaria), every other type (MM, PS, PC, TF, IS, RI, ...)
// secondaria.
std::string_view SchoolLevel(std::string_view school, std::string_view class_label);

// Class quarantine when no rule set is in force on the order's start (before 2020-10-12):
// the 14 days of contact quarantine of the February 2020 circulars.
inline constexpr int kDefaultClassQuarantineDays = 14;

// A ClassQuarantineOrdered with its end resolved: running on day d when start <= d < end.
struct ClassOrderSpan {
  Date start;
  Date end;
  std::optional<Date> release_with_test_from;
};

// The span of a class quarantine ordered from `start` for a class of `level`: the order's
// end when it gave one; else start + the class-quarantine days of the rule set in force on
// `start` (with its release-with-test day), else that set's "school_class" quarantine
// plan, else kDefaultClassQuarantineDays when no set is in force.
ClassOrderSpan ResolveClassOrder(Date start, const std::optional<Date>& given_end, std::string_view level,
                                 const RuleBook& rules);

// A class's status on one day.
struct ClassDay {
  ClassStatus status = ClassStatus::kInPresence;
  bool by_order = false;  // an explicit order decides it, not the rules
  std::optional<Date> until;
  std::optional<Date> release_with_test_from;
  int positives_in_window = 0;  // students' positive days in the window ending on the day
};

// The status of a class of `level` on `day`: an order running on `day` wins (the one
// running longest). Otherwise `rs` (the set in force on `day`; none: in presence) decides:
// every positive day X of a student is a trigger, DecideClass with the positives in the
// window ending on X gives a status for `days` from X, and the most severe status still
// running on `day` is the answer (class_quarantine > distance_learning >
// in_presence_with_ffp2), until X + days. `student_positives`: each student's last
// positive day (only students count: the rules speak of pupils).
ClassDay DecideClassDay(const std::vector<ClassOrderSpan>& orders, const std::vector<Date>& student_positives,
                        std::string_view level, Date day, const RuleSet* rs);

}  // namespace caseledger::domain
