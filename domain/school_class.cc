#include "domain/school_class.h"

#include <algorithm>
#include <string>

namespace caseledger::domain {
namespace {

int Severity(ClassStatus s) {
  switch (s) {
    case ClassStatus::kInPresence: return 0;
    case ClassStatus::kInPresenceWithFfp2: return 1;
    case ClassStatus::kDistanceLearning: return 2;
    case ClassStatus::kClassQuarantine: return 3;
  }
  return 0;
}

}  // namespace

std::string_view SchoolLevel(std::string_view school, std::string_view class_label) {
  const std::string_view type = school.size() >= 4 ? school.substr(2, 2) : std::string_view();
  if (type == "AA") return "infanzia";
  if (type == "EE") return "primaria";
  if (type == "IC") {
    const int year = class_label.empty() ? 0 : class_label[0] - '0';
    return year >= 6 && year <= 8 ? "secondaria" : "primaria";
  }
  return "secondaria";
}

ClassOrderSpan ResolveClassOrder(Date start, const std::optional<Date>& given_end, std::string_view level,
                                 const RuleBook& rules) {
  if (given_end) return {start, *given_end, std::nullopt};
  ClassOrderSpan o{start, start + kDefaultClassQuarantineDays, std::nullopt};
  if (const RuleSet* rs = rules.InForce(start)) {
    const auto& s = rs->school();
    const auto& table = level == "infanzia"   ? s.infanzia
                        : level == "primaria" ? s.primaria
                                              : s.secondaria;
    auto q = std::find_if(table.begin(), table.end(),
                          [](const ClassThreshold& t) { return t.status == ClassStatus::kClassQuarantine; });
    if (q != table.end()) {
      o.end = start + q->days;
      if (q->days_with_negative_test) o.release_with_test_from = start + *q->days_with_negative_test;
    } else {
      const MeasurePlan plan =
          rs->Plan({MeasureKind::kQuarantine, start, "school_class", VaccinationStatus::kUnvaccinated});
      o.end = plan.end;
      o.release_with_test_from = plan.release_with_test_from;
    }
  }
  return o;
}

ClassDay DecideClassDay(const std::vector<ClassOrderSpan>& orders, const std::vector<Date>& student_positives,
                        std::string_view level, Date day, const RuleSet* rs) {
  ClassDay d;
  for (const ClassOrderSpan& o : orders) {
    if (o.start <= day && day < o.end && (!d.until || *d.until < o.end)) {
      d = {ClassStatus::kClassQuarantine, true, o.end, o.release_with_test_from, 0};
    }
  }
  std::vector<Date> positives;  // up to `day`
  for (Date p : student_positives) {
    if (p <= day) positives.push_back(p);
  }
  const int window = rs ? rs->class_window_days() : 0;
  auto in_window = [&](Date end) {
    return static_cast<int>(std::count_if(positives.begin(), positives.end(),
                                          [&](Date p) { return p <= end && end - p < window; }));
  };
  d.positives_in_window = in_window(day);
  if (d.by_order || rs == nullptr) return d;
  // Each positive day x is a trigger; its decision runs for `days` from x.
  for (Date x : positives) {
    const ClassDecision dec = rs->DecideClass({std::string(level), in_window(x), x});
    if (dec.status == ClassStatus::kInPresence || day >= x + dec.days) continue;
    if (Severity(dec.status) < Severity(d.status)) continue;
    if (dec.status == d.status && x + dec.days <= *d.until) continue;
    d.status = dec.status;
    d.until = x + dec.days;
    d.release_with_test_from.reset();
    if (dec.days_with_negative_test) d.release_with_test_from = x + *dec.days_with_negative_test;
  }
  return d;
}

}  // namespace caseledger::domain
