// The region view's series beside the scaled DPC bulletin the generator followed (issue #8:
// the scale run's region CSV reproduces the series). Per column, the largest difference
// over the range, so that a run can print it and a test can require zeros.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "workload/demo_series.h"
#include "projections/region_view.h"

namespace caseledger::workload {

struct ColumnDifference {
  std::string column;              // DPC column name
  int64_t largest = 0;             // largest |view - scaled bulletin| over the days compared
  domain::Date day;                // first day with that difference
  int64_t view = 0, bulletin = 0;  // the two figures on that day
};

// `rows`: RegionView::Series for the whole region over [from - 1, to] (the day before the
// range is the baseline of cumulative columns); `series`: ScaleSeries for [from, to].
// Compares the columns the generator drives: daily tamponi, tamponi_test_antigenico_rapido,
// nuovi_positivi, dimessi_guariti, deceduti and casi_testati (increments since the
// baseline), ricoverati_con_sintomi and terapia_intensiva (levels), and totale_positivi
// (level: open cases before the range plus cases minus closures).
std::vector<ColumnDifference> CompareWithBulletin(const std::vector<projections::DpcRow>& rows,
                                                  const ScaledSeries& series);

// Reads and scales ops/reference/dpc-piemonte-daily.csv (or `reference_dir`'s).
domain::Result<ScaledSeries> LoadScaledSeries(const std::string& reference_dir, domain::Date from,
                                              domain::Date to, int64_t scale);

}  // namespace caseledger::workload
