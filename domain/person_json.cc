#include "domain/person_json.h"

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>

namespace caseledger::domain {
namespace {

namespace json = boost::json;

json::value DateOrNull(const std::optional<Date>& d) {
  if (!d) return nullptr;
  return json::value(d->ToString());
}

json::value StringOrNull(const std::string& s) {
  if (s.empty()) return nullptr;
  return json::value(s);
}

json::object Residence(const PersonState& s, const ReferenceData* reference) {
  const Municipality* m = reference ? reference->FindMunicipality(s.residence_istat) : nullptr;
  json::object o;
  o["istat"] = StringOrNull(s.residence_istat);
  o["municipality"] = m ? StringOrNull(m->name) : nullptr;
  o["province"] = m ? StringOrNull(m->province_abbr) : nullptr;
  o["asl"] = m ? StringOrNull(m->asl) : nullptr;
  return o;
}

json::object PersonalFields(const PersonState& s) {
  json::object o;
  auto put = [&](const char* key, const std::string& v) {
    if (!v.empty()) o[key] = v;
  };
  put("family_name", s.personal.family_name);
  put("given_names", s.personal.given_names);
  put("tax_code", s.personal.tax_code);
  put("birth_date", s.personal.birth_date);
  put("address", s.personal.address);
  put("phone", s.personal.phone);
  o["erased"] = s.erased;
  return o;
}

json::object Vaccination(const PersonState& s, Date today) {
  json::array doses;
  for (const Dose& d : s.doses) {
    doses.push_back(json::object{{"dose", d.number}, {"date", d.date.ToString()}});
  }
  json::object o;
  o["doses"] = std::move(doses);
  o["status"] = ToString(ClassifyVaccination(s.doses, s.last_recovery(), today));
  return o;
}

json::object Case(const PersonState& s) {
  json::object o;
  o["open"] = s.case_open;
  o["last_positive"] = DateOrNull(s.last_positive);
  if (s.last_closure && s.closed_on) {
    o["closure"] =
        json::object{{"outcome", ToString(*s.last_closure)}, {"on", s.closed_on->ToString()}};
  } else {
    o["closure"] = nullptr;
  }
  return o;
}

json::object Swab(const SwabState& w) {
  json::object o;
  o["swab_id"] = w.swab_id;
  o["kind"] = ToString(w.kind);
  o["reason"] = w.reason;
  o["requested_by"] = w.requested_by;
  o["requested_at"] = w.requested_at.micros != 0 ? json::value(w.requested_at.ToString()) : nullptr;
  o["collected"] = w.collected;
  o["collected_at"] = w.collected ? json::value(w.collected_at.ToString()) : nullptr;
  o["held_by_lab"] = w.collected ? StringOrNull(w.holder_lab) : nullptr;
  o["outcome"] = w.outcome ? json::value(ToString(*w.outcome)) : nullptr;
  o["lab_id"] = w.outcome ? StringOrNull(w.lab_id) : nullptr;
  o["reported_at"] = w.outcome ? json::value(w.reported_at.ToString()) : nullptr;
  o["corrections"] = w.corrections;
  return o;
}

json::object Measure(const PersonState& s, const MeasureState& m, const RuleBook* rules) {
  const RuleSet* set = rules ? rules->InForce(m.start) : nullptr;
  std::optional<MeasurePlan> plan;
  if (set) {
    // The status on the start day: a dose or recovery after the start changes nothing.
    plan = set->Plan(
        {m.kind, m.start, m.reason, ClassifyVaccination(s.doses, s.last_recovery(), m.start)});
  }
  json::object o;
  o["measure_id"] = m.id;
  o["kind"] = ToString(m.kind);
  o["reason"] = m.reason;
  o["source_case"] = StringOrNull(m.source_case);
  o["start"] = m.start.ToString();
  if (m.given_end) {
    o["end"] = m.given_end->ToString();
  } else {
    o["end"] = plan ? json::value(plan->end.ToString()) : nullptr;
  }
  o["end_given"] = m.given_end.has_value();
  o["release_with_test_from"] = plan ? DateOrNull(plan->release_with_test_from) : nullptr;
  o["max_end"] = plan ? json::value(plan->max_end.ToString()) : nullptr;
  o["quarantine_required"] = plan ? json::value(plan->quarantine_required) : nullptr;
  o["rule_set"] = plan ? json::value(plan->rule_set_id) : nullptr;
  o["status"] = m.active() ? "active" : "ended";
  o["ended_on"] = DateOrNull(m.ended_on);
  o["end_reason"] = m.ended_on ? json::value(ToString(m.end_reason)) : nullptr;
  return o;
}

}  // namespace

boost::json::object PersonToJson(const PersonState& state, const PersonJsonOptions& options) {
  json::object o;
  o["id"] = state.person_id;
  o["version"] = state.version;
  o["sex"] = ToString(state.sex);
  o["residence"] = Residence(state, options.reference);
  if (options.include_personal) o["personal"] = PersonalFields(state);
  o["gp_id"] = StringOrNull(state.gp_id);

  json::array enrolments;
  for (const Enrolment& e : state.enrolments) {
    enrolments.push_back(
        json::object{{"school", e.school}, {"class", e.class_label}, {"role", ToString(e.role)}});
  }
  o["enrolments"] = std::move(enrolments);
  o["vaccination"] = Vaccination(state, options.today);
  o["case"] = Case(state);
  o["hospital"] = json::object{{"hospitalized", state.hospitalized}, {"in_icu", state.in_icu}};

  json::array swabs;
  for (const SwabState& w : state.swabs) swabs.push_back(Swab(w));
  o["swabs"] = std::move(swabs);

  json::array measures;
  for (const MeasureState& m : state.measures) measures.push_back(Measure(state, m, options.rules));
  o["measures"] = std::move(measures);

  json::array contacts;
  for (const ContactReported& c : state.contacts) {
    contacts.push_back(
        json::object{{"contact_of", c.contact_of}, {"last_exposure", c.last_exposure.ToString()}});
  }
  o["contacts"] = std::move(contacts);
  return o;
}

}  // namespace caseledger::domain
