#include "api/mayor_figures.h"

#include <boost/json.hpp>

#include <cmath>
#include <string_view>

namespace caseledger::api {
namespace {

namespace json = boost::json;

constexpr std::string_view kBandedLevels[] = {"active_isolations", "active_quarantines", "currently_positive",
                                              "cumulative_cases",  "recovered",          "deceased",
                                              "swabs_molecular",   "swabs_antigen"};

int64_t Band(int64_t x) { return x <= 0 ? 0 : (x / kMayorBand) * kMayorBand; }

int64_t IntOf(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_int64() ? v->get_int64() : v && v->is_uint64() ? static_cast<int64_t>(v->get_uint64()) : 0;
}

json::value Shown(int64_t banded) { return banded <= 0 ? json::value(nullptr) : json::value(banded); }

// One set of figures: the top level of an answer or one daily row. The differences are
// taken before the levels are replaced, from the exact values, then only bands remain.
void BandFigures(json::object& o, double population) {
  const int64_t cumulative = IntOf(o, "cumulative_cases");
  const int64_t banded_cumulative = Band(cumulative);
  if (o.contains("new_positives")) {
    o["new_positives"] = Shown(banded_cumulative - Band(cumulative - IntOf(o, "new_positives")));
  }
  std::optional<int64_t> week;
  if (o.contains("new_positives_7d")) {
    week = banded_cumulative - Band(cumulative - IntOf(o, "new_positives_7d"));
    o["new_positives_7d"] = Shown(*week);
  }
  for (std::string_view key : kBandedLevels) {
    if (o.contains(key)) o[key] = Shown(Band(IntOf(o, key)));
  }
  if (o.contains("incidence_7d_per_100k")) {
    if (week && *week > 0 && population > 0) {
      o["incidence_7d_per_100k"] = std::round(static_cast<double>(*week) * 100000.0 / population * 100.0) / 100.0;
    } else {
      o["incidence_7d_per_100k"] = nullptr;
    }
  }
}

}  // namespace

void BandForMayor(json::object& municipality) {
  double population = 0;
  if (const auto* p = municipality.if_contains("population"); p && p->is_number()) population = p->to_number<double>();
  BandFigures(municipality, population);
  if (auto* daily = municipality.if_contains("daily"); daily && daily->is_array()) {
    for (json::value& row : daily->as_array()) {
      if (row.is_object()) BandFigures(row.as_object(), population);
    }
  }
  municipality["rounded_to"] = kMayorBand;
}

}  // namespace caseledger::api
