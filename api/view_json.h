// The JSON (and CSV) of the read views (docs/api.md, api/openapi.json): pure functions from
// the typed reports the views hand out (projections/*_view.h) to the bodies the routes
// answer (routes_views.cc). The field names and their order are the contract.
#pragma once

#include "projections/gp_view.h"
#include "projections/lab_view.h"
#include "projections/municipality_view.h"
#include "projections/region_view.h"
#include "projections/school_view.h"

#include <boost/json/object.hpp>

#include <string>
#include <vector>

namespace caseledger::api {

// {"gp_id", "position": <last published position>, "day": "YYYY-MM-DD", "patient_count",
//  "patients": [{"person_id", "case_open",
//                "measures": [{"measure_id", "kind": "isolation"|"quarantine", "reason",
//                              "start", "end", "end_given", "release_with_test_from",
//                              "rule_set"}],
//                "pending_swabs": [{"swab_id", "kind": "molecular"|"antigen",
//                                   "requested_on", "collected_on"}]}],
//  "actions": {"results_to_read": [{"person_id", "swab_id", "outcome", "corrected"}],
//              "measures_ending": [{"person_id", "measure_id", "kind", "end"}],
//              "release_tests_due": [{"person_id", "measure_id", "kind",
//                                     "release_with_test_from"}]}}
// Absent dates and rule sets are null (projections::GpReport says what each holds).
boost::json::object GpJson(const projections::GpReport& gp);

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
boost::json::object SchoolJson(const projections::SchoolReport& school);

// {"istat": "001272", "name": "Torino", "province": "TO", "asl": "TO" | null,
//  "population": 886837 | null, "position": N, "day": "YYYY-MM-DD",
//  "active_isolations", "active_quarantines", "currently_positive", "cumulative_cases",
//  "recovered", "deceased", "new_positives", "new_positives_7d",
//  "incidence_7d_per_100k": 12.34 | null,               (figures on `day`)
//  "daily": [{"date": "YYYY-MM-DD", "new_positives", "swabs_molecular", "swabs_antigen",
//             "active_isolations", "active_quarantines", "currently_positive",
//             "cumulative_cases", "recovered", "deceased", "new_positives_7d",
//             "incidence_7d_per_100k"}, ...]}
// name, province, asl and population are null for a code the reference table lacks.
boost::json::object MunicipalityJson(const projections::MunicipalityReport& m);
// {"position": N, "day": "YYYY-MM-DD", "asl": "TO3" | null, "province": "TO" | null,
//  "municipalities": [{"istat", "name", "province", "asl", "population", and the figures
//                      on `day` as in MunicipalityJson, without "daily"}]}
boost::json::object MunicipalitiesJson(const projections::MunicipalityList& list);

// {"area": "region" | "<ASL>", "name": "Piemonte" | "ASL TO3", "position": N,
//  "columns": ["data", ...], "daily": [{"data": "2020-11-03T17:00:00",
//  "totale_positivi": ..., ... in DpcColumns() order, "late_reports": n}]}
boost::json::object RegionJson(const projections::AreaReport& area);
// The rows as CSV: the header line of DpcColumns(), one line per day, "\n" endings.
std::string DpcCsv(const std::vector<projections::DpcRow>& rows);

// {"lab": "LAB01", "position": N, "day": "YYYY-MM-DD",
//  "results", "positive", "negative", "inconclusive", "corrections", "results_7d",
//  "turnaround_7d": {"count", "median_minutes": m | null, "p90_minutes": m | null},
//  "region_backlog": n,
//  "daily": [{"date", "results", "positive", "negative", "inconclusive", "corrections",
//             "turnaround_median_minutes", "turnaround_p90_minutes"}]}
boost::json::object LabJson(const projections::LabReport& lab);
// {"position", "day", "region_backlog", "labs": [{"lab", and the figures of LabJson
//  without "daily"}]}, labs sorted by id.
boost::json::object LabsJson(const projections::LabList& labs);

}  // namespace caseledger::api
