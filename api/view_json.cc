#include "api/view_json.h"

#include <boost/json.hpp>

namespace caseledger::api {
namespace {

namespace json = boost::json;
using domain::Date;
using projections::DpcColumns;

json::value DateOrNull(const std::optional<Date>& d) { return d ? json::value(d->ToString()) : json::value(nullptr); }
json::value OrNull(const std::optional<double>& v) { return v ? json::value(*v) : json::value(nullptr); }
json::value OrNull(const std::optional<int64_t>& v) { return v ? json::value(*v) : json::value(nullptr); }
json::value OrNull(const std::string& s) { return s.empty() ? json::value(nullptr) : json::value(s); }

const char* KindOf(bool isolation) { return isolation ? "isolation" : "quarantine"; }

json::object MeasureJson(const projections::GpMeasure& m) {
  return {{"measure_id", m.measure_id},
          {"kind", KindOf(m.isolation)},
          {"reason", m.reason},
          {"start", m.start.ToString()},
          {"end", m.end.ToString()},
          {"end_given", m.end_given},
          {"release_with_test_from", DateOrNull(m.release_with_test_from)},
          {"rule_set", OrNull(m.rule_set)}};
}

void PutIdentity(json::object& o, std::string_view istat, const domain::Municipality* m) {
  o["istat"] = istat;
  o["name"] = m ? json::value(m->name) : json::value(nullptr);
  o["province"] = m ? json::value(m->province_abbr) : json::value(nullptr);
  o["asl"] = m ? OrNull(m->asl) : json::value(nullptr);
  o["population"] = m ? json::value(m->population) : json::value(nullptr);
}

void PutFigures(json::object& o, const projections::MunicipalityFigures& f) {
  o["active_isolations"] = f.active_isolations;
  o["active_quarantines"] = f.active_quarantines;
  o["currently_positive"] = f.currently_positive;
  o["cumulative_cases"] = f.cumulative_cases;
  o["recovered"] = f.recovered;
  o["deceased"] = f.deceased;
  o["new_positives"] = f.new_positives;
  o["new_positives_7d"] = f.new_positives_7d;
  o["incidence_7d_per_100k"] = OrNull(f.incidence_7d_per_100k);
}

void PutFigures(json::object& o, const projections::LabFigures& f) {
  o["results"] = f.results;
  o["positive"] = f.positive;
  o["negative"] = f.negative;
  o["inconclusive"] = f.inconclusive;
  o["corrections"] = f.corrections;
  o["results_7d"] = f.results_7d;
  json::object t;
  t["count"] = f.results_7d;
  t["median_minutes"] = OrNull(f.turnaround_median_minutes);
  t["p90_minutes"] = OrNull(f.turnaround_p90_minutes);
  o["turnaround_7d"] = std::move(t);
}

}  // namespace

json::object GpJson(const projections::GpReport& gp) {
  json::array patients, ending, tests_due, to_read;
  for (const projections::GpPatient& p : gp.patients) {
    json::array measures, pending;
    for (const projections::GpMeasure& m : p.measures) measures.push_back(MeasureJson(m));
    for (const projections::GpPendingSwab& w : p.pending_swabs) {
      pending.push_back({{"swab_id", w.swab_id},
                         {"kind", domain::ToString(w.kind)},
                         {"requested_on", w.requested_on.ToString()},
                         {"collected_on", DateOrNull(w.collected_on)}});
    }
    patients.push_back({{"person_id", p.person_id},
                        {"case_open", p.case_open},
                        {"measures", std::move(measures)},
                        {"pending_swabs", std::move(pending)}});
  }
  for (const projections::GpMeasureDue& m : gp.measures_ending) {
    ending.push_back({{"person_id", m.person_id}, {"measure_id", m.measure_id}, {"kind", KindOf(m.isolation)},
                      {"end", m.on.ToString()}});
  }
  for (const projections::GpMeasureDue& m : gp.release_tests_due) {
    tests_due.push_back({{"person_id", m.person_id}, {"measure_id", m.measure_id}, {"kind", KindOf(m.isolation)},
                         {"release_with_test_from", m.on.ToString()}});
  }
  for (const projections::GpResultToRead& n : gp.results_to_read) {
    to_read.push_back({{"person_id", n.person_id},
                       {"swab_id", n.swab_id},
                       {"outcome", domain::ToString(n.outcome)},
                       {"corrected", n.corrected}});
  }
  json::object out;
  out["gp_id"] = gp.gp_id;
  out["position"] = gp.position;
  out["day"] = gp.day.ToString();
  out["patient_count"] = gp.patient_count;
  out["patients"] = std::move(patients);
  out["actions"] = json::object{{"results_to_read", std::move(to_read)},
                                {"measures_ending", std::move(ending)},
                                {"release_tests_due", std::move(tests_due)}};
  return out;
}

json::object SchoolJson(const projections::SchoolReport& school) {
  json::array classes;
  for (const projections::ClassReport& c : school.classes) {
    classes.push_back({{"class", c.label},
                       {"level", c.level},
                       {"students", c.students},
                       {"staff", c.staff},
                       {"positive", c.positive},
                       {"in_quarantine", c.in_quarantine},
                       {"positives_in_window", c.day.positives_in_window},
                       {"status", domain::ToString(c.day.status)},
                       {"status_source", c.day.by_order ? "order" : "rules"},
                       {"status_until", DateOrNull(c.day.until)},
                       {"release_with_test_from", DateOrNull(c.day.release_with_test_from)}});
  }
  const projections::SchoolTotals& t = school.totals;
  json::object out;
  out["school"] = school.school;
  out["position"] = school.position;
  out["day"] = school.day.ToString();
  out["rule_set"] = school.rule_set ? json::value(*school.rule_set) : json::value(nullptr);
  out["totals"] = json::object{{"students", t.students},
                               {"staff", t.staff},
                               {"positive", t.positive},
                               {"in_quarantine", t.in_quarantine},
                               {"classes", t.classes},
                               {"classes_not_in_presence", t.classes_not_in_presence}};
  out["classes"] = std::move(classes);
  return out;
}

json::object MunicipalityJson(const projections::MunicipalityReport& m) {
  json::object o;
  PutIdentity(o, m.istat, m.identity ? &*m.identity : nullptr);
  o["position"] = m.position;
  o["day"] = m.day.ToString();
  PutFigures(o, m.figures);
  json::array daily;
  for (const projections::MunicipalityDay& d : m.daily) {
    const projections::MunicipalityFigures& f = d.figures;
    json::object r;
    r["date"] = d.date.ToString();
    r["new_positives"] = f.new_positives;
    r["swabs_molecular"] = f.swabs_molecular;
    r["swabs_antigen"] = f.swabs_antigen;
    r["active_isolations"] = f.active_isolations;
    r["active_quarantines"] = f.active_quarantines;
    r["currently_positive"] = f.currently_positive;
    r["cumulative_cases"] = f.cumulative_cases;
    r["recovered"] = f.recovered;
    r["deceased"] = f.deceased;
    r["new_positives_7d"] = f.new_positives_7d;
    r["incidence_7d_per_100k"] = OrNull(f.incidence_7d_per_100k);
    daily.push_back(std::move(r));
  }
  o["daily"] = std::move(daily);
  return o;
}

json::object MunicipalitiesJson(const projections::MunicipalityList& list) {
  json::array rows;
  for (const projections::MunicipalityRow& m : list.municipalities) {
    json::object o;
    PutIdentity(o, m.identity.istat_code, &m.identity);
    PutFigures(o, m.figures);
    rows.push_back(std::move(o));
  }
  json::object out;
  out["position"] = list.position;
  out["day"] = list.day.ToString();
  out["asl"] = OrNull(list.filter.asl);
  out["province"] = OrNull(list.filter.province);
  out["municipalities"] = std::move(rows);
  return out;
}

json::object RegionJson(const projections::AreaReport& area) {
  const auto& columns = DpcColumns();
  json::object out;
  out["area"] = area.area.empty() ? std::string_view("region") : std::string_view(area.area);
  out["name"] = area.name;
  out["position"] = area.position;
  json::array names;
  for (std::string_view c : columns) names.push_back(json::string(c));
  out["columns"] = std::move(names);
  json::array daily;
  daily.reserve(area.rows.size());
  for (size_t k = 0; k < area.rows.size(); ++k) {
    const projections::DpcRow& r = area.rows[k];
    json::object o;
    o["data"] = projections::DpcTimestamp(r.day);
    auto values = projections::DpcValues(r);
    for (size_t i = 0; i < values.size(); ++i) o[columns[i + 1]] = values[i];
    o["late_reports"] = area.late_reports[k];
    daily.push_back(std::move(o));
  }
  out["daily"] = std::move(daily);
  return out;
}

std::string DpcCsv(const std::vector<projections::DpcRow>& rows) {
  std::string csv;
  for (std::string_view c : DpcColumns()) csv.append(csv.empty() ? "" : ",").append(c);
  csv.push_back('\n');
  for (const projections::DpcRow& r : rows) {
    csv.append(projections::DpcTimestamp(r.day));
    for (int64_t v : projections::DpcValues(r)) csv.append(",").append(std::to_string(v));
    csv.push_back('\n');
  }
  return csv;
}

json::object LabJson(const projections::LabReport& lab) {
  json::object o;
  o["lab"] = lab.lab;
  o["position"] = lab.position;
  o["day"] = lab.day.ToString();
  PutFigures(o, lab.figures);
  o["region_backlog"] = lab.region_backlog;
  json::array daily;
  for (const projections::LabDay& d : lab.daily) {
    json::object r;
    r["date"] = d.date.ToString();
    r["results"] = d.results;
    r["positive"] = d.positive;
    r["negative"] = d.negative;
    r["inconclusive"] = d.inconclusive;
    r["corrections"] = d.corrections;
    r["turnaround_median_minutes"] = OrNull(d.turnaround_median_minutes);
    r["turnaround_p90_minutes"] = OrNull(d.turnaround_p90_minutes);
    daily.push_back(std::move(r));
  }
  o["daily"] = std::move(daily);
  return o;
}

json::object LabsJson(const projections::LabList& labs) {
  json::array list;
  for (const auto& [id, figures] : labs.labs) {
    json::object o;
    o["lab"] = id;
    PutFigures(o, figures);
    list.push_back(std::move(o));
  }
  json::object out;
  out["position"] = labs.position;
  out["day"] = labs.day.ToString();
  out["region_backlog"] = labs.region_backlog;
  out["labs"] = std::move(list);
  return out;
}

}  // namespace caseledger::api
