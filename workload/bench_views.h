// The views `caseledger serve` runs (api/service.cc), for the benchmarks that build them
// outside a server (bench rebuild, bench lag, loadgen --sink store).
#pragma once

#include <memory>
#include <vector>

#include "domain/reference.h"
#include "domain/rules.h"
#include "projections/view.h"

namespace caseledger::workload {

// Municipality, region/ASL, lab, school and GP views, in the server's order.
std::vector<std::unique_ptr<projections::View>> MakeAllViews(
    std::shared_ptr<const domain::ReferenceData> reference,
    std::shared_ptr<const domain::RuleBook> rules);

// This process's resident set now and at its peak (VmRSS, VmHWM of /proc/self/status),
// in bytes; 0 where /proc does not say.
struct MemoryUse {
  uint64_t rss = 0;
  uint64_t peak = 0;
};
MemoryUse ProcessMemory();

}  // namespace caseledger::workload
