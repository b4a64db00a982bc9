#include "domain/rules.h"

#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <stdexcept>
#include <utility>

namespace caseledger::domain {
namespace {

template <class E, size_t N>
std::optional<E> ParseName(std::string_view s,
                           const std::array<std::pair<E, const char*>, N>& names) {
  for (const auto& [value, name] : names) {
    if (s == name) return value;
  }
  return std::nullopt;
}

template <class E, size_t N>
const char* NameOf(E v, const std::array<std::pair<E, const char*>, N>& names) {
  for (const auto& [value, name] : names) {
    if (v == value) return name;
  }
  return "unknown";
}

constexpr std::array<std::pair<MeasureKind, const char*>, 2> kKind{
    {{MeasureKind::kIsolation, "isolation"}, {MeasureKind::kQuarantine, "quarantine"}}};
constexpr std::array<std::pair<VaccinationStatus, const char*>, 6> kVaccination{
    {{VaccinationStatus::kUnvaccinated, "unvaccinated"},
     {VaccinationStatus::kPrimaryIncomplete, "primary_incomplete"},
     {VaccinationStatus::kPrimaryRecent, "primary_recent"},
     {VaccinationStatus::kPrimaryOld, "primary_old"},
     {VaccinationStatus::kBoosted, "boosted"},
     {VaccinationStatus::kRecoveredRecent, "recovered_recent"}}};
constexpr std::array<std::pair<ClassStatus, const char*>, 4> kClassStatus{
    {{ClassStatus::kInPresence, "in_presence"},
     {ClassStatus::kClassQuarantine, "class_quarantine"},
     {ClassStatus::kDistanceLearning, "distance_learning"},
     {ClassStatus::kInPresenceWithFfp2, "in_presence_with_ffp2"}}};

// The circulars speak of "less than 120 days" and "more than 120 days"; day 120 itself is
// taken as still recent (the brief's <= 120).
constexpr int kRecentDays = 120;
// A primary cycle protects from the 14th day after the second dose (green pass validity).
constexpr int kPrimaryEffectiveAfterDays = 14;

namespace json = boost::json;

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

json::array WriteThresholds(const std::vector<ClassThreshold>& table) {
  json::array out;
  for (const ClassThreshold& t : table) {
    json::object o;
    o["min_positives"] = t.min_positives;
    o["status"] = ToString(t.status);
    o["days"] = t.days;
    if (t.days_with_negative_test) o["days_with_negative_test"] = *t.days_with_negative_test;
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace

const char* ToString(MeasureKind v) { return NameOf(v, kKind); }
const char* ToString(VaccinationStatus v) { return NameOf(v, kVaccination); }
const char* ToString(ClassStatus v) { return NameOf(v, kClassStatus); }
std::optional<MeasureKind> ParseMeasureKind(std::string_view s) { return ParseName(s, kKind); }
std::optional<VaccinationStatus> ParseVaccinationStatus(std::string_view s) {
  return ParseName(s, kVaccination);
}
std::optional<ClassStatus> ParseClassStatus(std::string_view s) {
  return ParseName(s, kClassStatus);
}

const std::vector<std::string>& MeasureReasons(MeasureKind kind) {
  static const std::vector<std::string> kIsolationReasons{"positive", "symptomatic"};
  static const std::vector<std::string> kQuarantineReasons{"close_contact", "travel",
                                                           "school_class"};
  return kind == MeasureKind::kIsolation ? kIsolationReasons : kQuarantineReasons;
}

VaccinationStatus ClassifyVaccination(const std::vector<Dose>& doses,
                                      std::optional<Date> last_recovery, Date on) {
  bool boosted = false;
  bool any_dose = false;
  std::optional<Date> second;  // the latest dose 2 given by `on`
  for (const Dose& d : doses) {
    if (d.date > on || d.number < 1) continue;
    any_dose = true;
    if (d.number >= 3) boosted = true;
    if (d.number == 2 && (!second || d.date > *second)) second = d.date;
  }
  if (boosted) return VaccinationStatus::kBoosted;
  const bool primary_complete = second && on - *second >= kPrimaryEffectiveAfterDays;
  if (primary_complete && on - *second <= kRecentDays) return VaccinationStatus::kPrimaryRecent;
  if (last_recovery && *last_recovery <= on && on - *last_recovery <= kRecentDays) {
    return VaccinationStatus::kRecoveredRecent;
  }
  if (primary_complete) return VaccinationStatus::kPrimaryOld;
  if (any_dose) return VaccinationStatus::kPrimaryIncomplete;
  return VaccinationStatus::kUnvaccinated;
}

const MeasureRule& RuleSet::Match(MeasureKind kind, std::string_view reason,
                                  VaccinationStatus vaccination) const {
  const std::vector<std::string>& known = MeasureReasons(kind);
  std::string_view r = Contains(known, reason) ? reason : std::string_view(known.front());
  for (const MeasureRule& rule : measures_) {
    if (rule.kind != kind || !Contains(rule.reasons, r)) continue;
    if (!rule.vaccination.empty() && std::find(rule.vaccination.begin(), rule.vaccination.end(),
                                               vaccination) == rule.vaccination.end()) {
      continue;
    }
    return rule;
  }
  // Parse rejects a rule set with a gap, and a RuleSet is only built by Parse.
  throw std::logic_error("rule set " + id_ + " has no rule for " + ToString(kind) + "/" +
                         std::string(r) + "/" + ToString(vaccination));
}

MeasurePlan RuleSet::Plan(const MeasureQuery& q) const {
  const MeasureRule& rule = Match(q.kind, q.reason, q.vaccination);
  MeasurePlan plan;
  plan.quarantine_required = rule.quarantine_required;
  plan.end = q.start + rule.days;
  if (rule.days_with_negative_test) {
    plan.release_with_test_from = q.start + *rule.days_with_negative_test;
  }
  plan.max_end = q.start + rule.max_days;
  plan.self_monitoring_days = rule.self_monitoring_days;
  plan.ffp2_days = rule.ffp2_days;
  plan.rule_set_id = id_;
  return plan;
}

ClassDecision RuleSet::DecideClass(const ClassSituation& s) const {
  const std::vector<ClassThreshold>* table = nullptr;
  if (s.school_level == "infanzia") table = &school_.infanzia;
  if (s.school_level == "primaria") table = &school_.primaria;
  if (s.school_level == "secondaria") table = &school_.secondaria;
  ClassDecision decision;
  if (table == nullptr) return decision;
  // Thresholds are increasing: the last one reached applies.
  for (const ClassThreshold& t : *table) {
    if (s.positives_in_window < t.min_positives) break;
    decision = ClassDecision{t.status, t.days, t.days_with_negative_test};
  }
  return decision;
}

// Key order and the fields written are the canonical form recorded in RulesAdopted:
// change them only with a new event schema version.
std::string RuleSet::ToJson() const {
  json::object o;
  o["id"] = id_;
  o["effective_from"] = effective_from_.ToString();
  o["title"] = title_;
  json::array sources;
  for (const RuleSource& s : sources_) {
    json::object so;
    so["name"] = s.name;
    if (!s.url.empty()) so["url"] = s.url;
    sources.push_back(std::move(so));
  }
  o["sources"] = std::move(sources);
  o["notes"] = json::value_from(notes_);
  json::array measures;
  for (const MeasureRule& m : measures_) {
    json::object mo;
    mo["kind"] = ToString(m.kind);
    mo["reasons"] = json::value_from(m.reasons);
    if (!m.vaccination.empty()) {
      json::array v;
      for (VaccinationStatus s : m.vaccination) v.push_back(json::string(ToString(s)));
      mo["vaccination"] = std::move(v);
    }
    mo["quarantine_required"] = m.quarantine_required;
    mo["days"] = m.days;
    if (m.days_with_negative_test) mo["days_with_negative_test"] = *m.days_with_negative_test;
    mo["max_days"] = m.max_days;
    mo["self_monitoring_days"] = m.self_monitoring_days;
    mo["ffp2_days"] = m.ffp2_days;
    if (!m.note.empty()) mo["note"] = m.note;
    measures.push_back(std::move(mo));
  }
  o["measures"] = std::move(measures);
  json::object school;
  school["window_days"] = school_.window_days;
  school["infanzia"] = WriteThresholds(school_.infanzia);
  school["primaria"] = WriteThresholds(school_.primaria);
  school["secondaria"] = WriteThresholds(school_.secondaria);
  o["school"] = std::move(school);
  return json::serialize(o);
}

Result<void> RuleBook::Add(RuleSet set) {
  for (const RuleSet& s : sets_) {
    if (s.id() == set.id()) return Error::Conflict("rule set id " + set.id() + " already added");
    if (s.effective_from() == set.effective_from()) {
      return Error::Conflict("rule set " + s.id() + " is already effective from " +
                             set.effective_from().ToString());
    }
  }
  auto at = std::upper_bound(sets_.begin(), sets_.end(), set.effective_from(),
                             [](Date day, const RuleSet& s) { return day < s.effective_from(); });
  sets_.insert(at, std::move(set));
  return {};
}

const RuleSet* RuleBook::InForce(Date day) const {
  auto after = std::upper_bound(sets_.begin(), sets_.end(), day,
                                [](Date d, const RuleSet& s) { return d < s.effective_from(); });
  if (after == sets_.begin()) return nullptr;
  return &*std::prev(after);
}

}  // namespace caseledger::domain
