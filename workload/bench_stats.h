// Summary statistics for `caseledger-bench`: medians over runs and latency percentiles.
#pragma once

#include <cstdint>
#include <vector>

namespace caseledger::workload {

// Median of `values` (the mean of the two middle ones for an even count); 0 when empty.
double Median(std::vector<double> values);

// The p-th percentile (0 < p <= 100, nearest-rank) of `samples`; 0 when empty.
// Reorders `samples` (partial sort), which stay otherwise intact.
int64_t Percentile(std::vector<int64_t>& samples, double p);

}  // namespace caseledger::workload
