#include "replay/view_set.h"

#include "projections/gp_view.h"
#include "projections/lab_view.h"
#include "projections/municipality_view.h"
#include "projections/region_view.h"
#include "projections/school_view.h"

#include <algorithm>

namespace caseledger::replay {

const std::vector<std::string>& AllViewNames() {
  static const std::vector<std::string> kNames{"municipalities", "region", "labs", "schools", "gps"};
  return kNames;
}

eventstore::StoreResult<std::vector<std::string>> ParseViewNames(std::string_view list) {
  std::vector<std::string> wanted;
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string name(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    const auto& all = AllViewNames();
    if (std::find(all.begin(), all.end(), name) == all.end()) {
      return eventstore::StoreError(eventstore::StoreErrorCode::kInvalidArgument,
                                    "unknown view '" + name + "' (views: municipalities,region,labs,schools,gps)");
    }
    wanted.push_back(std::move(name));
  }
  std::vector<std::string> ordered;
  for (const std::string& n : AllViewNames()) {
    if (std::find(wanted.begin(), wanted.end(), n) != wanted.end()) ordered.push_back(n);
  }
  return ordered;
}

std::vector<std::unique_ptr<projections::View>> MakeViews(const ViewSetOptions& o) {
  auto want = [&](std::string_view name) {
    return o.names.empty() || std::find(o.names.begin(), o.names.end(), name) != o.names.end();
  };
  std::vector<std::unique_ptr<projections::View>> views;
  if (want("municipalities")) views.push_back(std::make_unique<projections::MunicipalityView>(o.reference));
  if (want("region")) views.push_back(std::make_unique<projections::RegionView>(o.reference));
  if (want("labs")) views.push_back(std::make_unique<projections::LabView>());
  if (want("schools")) views.push_back(std::make_unique<projections::SchoolView>(o.rules));
  if (want("gps")) views.push_back(std::make_unique<projections::GpView>(o.rules));
  return views;
}

}  // namespace caseledger::replay
