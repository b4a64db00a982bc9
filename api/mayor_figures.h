// What a mayor reads of its municipality: every figure rounded down to a multiple of three.
//
// Hiding counts of 1 and 2 one figure at a time does not hide them: cumulative cases going
// from 3 to 4 between two days tell one new case even when that day's new positives are
// hidden, and a hidden count beside a shown 0 tells "1 or 2". So a mayor's answer is a
// function of the BANDS of the municipality's series only, where band(x) = 3 * floor(x / 3):
//   - levels (active isolations and quarantines, currently positive, cumulative cases,
//     recovered, deceased) and daily swab counts: their band;
//   - new positives of a day and of 7 days: band(cumulative at the day) minus band(cumulative
//     the day before / 7 days before), so they agree with the cumulative a mayor sees;
//   - the 7-day incidence per 100,000: computed from that banded 7-day count;
//   - a band of 0 (a true value of 0, 1 or 2) is shown as null: "< 3".
// Two histories whose series have the same bands on every day give byte-identical answers
// (mayor_figures_test.cc checks it over random small towns and reading sequences); 0, 1 and
// 2 read the same, and a day's new cases are known only as a difference of bands.
// The ASL and province figures of the public bulletin are exact sums over many
// municipalities; they cannot isolate a municipality that its mayor sees banded unless the
// caller sees every other municipality of that area exactly, which no mayor does.
#pragma once

#include <boost/json/fwd.hpp>

#include <cstdint>

namespace caseledger::api {

inline constexpr int64_t kMayorBand = 3;

// Rewrites a municipality answer (api::MunicipalityJson, view_json.h, or one entry of
// MunicipalitiesJson) in place into its banded form and marks it with "rounded_to": 3.
// Expects exact figures; each daily row must carry "new_positives_7d".
void BandForMayor(boost::json::object& municipality);

}  // namespace caseledger::api
