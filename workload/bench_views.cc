#include "workload/bench_views.h"

#include <fstream>
#include <string>

#include "projections/view_set.h"

namespace caseledger::workload {

std::vector<std::unique_ptr<projections::View>> MakeAllViews(
    std::shared_ptr<const domain::ReferenceData> reference,
    std::shared_ptr<const domain::RuleBook> rules) {
  return projections::MakeViews({std::move(reference), std::move(rules), {}});
}

MemoryUse ProcessMemory() {
  MemoryUse m;
  std::ifstream in("/proc/self/status");
  std::string key;
  uint64_t kib = 0;
  while (in >> key) {
    if (key == "VmRSS:" && in >> kib)
      m.rss = kib * 1024;
    else if (key == "VmHWM:" && in >> kib)
      m.peak = kib * 1024;
  }
  return m;
}

}  // namespace caseledger::workload
