// Italy's worst days (issue #8: `caseledger-loadgen --peak`): the day with the most swabs
// and the day with the most new positives in the national DPC series
// (ops/reference/dpc-italia-daily.csv).
#pragma once

#include <cstdint>
#include <string>

#include "domain/error.h"
#include "domain/time.h"

namespace caseledger::workload {

struct PeakDays {
  domain::Date swab_day;      // most swabs in a day (tamponi over the highest before it)
  int64_t swabs = 0;
  domain::Date positive_day;  // most new positives in a day (nuovi_positivi)
  int64_t positives = 0;
};

domain::Result<PeakDays> FindItalyPeak(const std::string& reference_dir);

}  // namespace caseledger::workload
