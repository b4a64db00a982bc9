#include "app/bench_views.h"

#include <fstream>
#include <string>

#include "projections/gp_view.h"
#include "projections/lab_view.h"
#include "projections/municipality_view.h"
#include "projections/region_view.h"
#include "projections/school_view.h"

namespace caseledger::app {

std::vector<std::unique_ptr<projections::View>> MakeAllViews(
    std::shared_ptr<const domain::ReferenceData> reference,
    std::shared_ptr<const domain::RuleBook> rules) {
  std::vector<std::unique_ptr<projections::View>> views;
  views.push_back(std::make_unique<projections::MunicipalityView>(reference));
  views.push_back(std::make_unique<projections::RegionView>(reference));
  views.push_back(std::make_unique<projections::LabView>());
  views.push_back(std::make_unique<projections::SchoolView>(rules));
  views.push_back(std::make_unique<projections::GpView>(rules));
  return views;
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

}  // namespace caseledger::app
