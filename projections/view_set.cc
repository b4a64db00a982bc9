#include "projections/view_set.h"

#include "projections/gp_view.h"
#include "projections/lab_view.h"
#include "projections/municipality_view.h"
#include "projections/region_view.h"
#include "projections/school_view.h"

#include <algorithm>

namespace caseledger::projections {

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

ViewSet MakeViewSet(const ViewSetOptions& o) {
  auto want = [&](std::string_view name) {
    return o.names.empty() || std::find(o.names.begin(), o.names.end(), name) != o.names.end();
  };
  ViewSet set;
  // Adds the view to the set and returns it for its typed pointer.
  auto add = [&](auto view) {
    auto* typed = view.get();
    set.views.push_back(std::move(view));
    return typed;
  };
  if (want("municipalities")) set.typed.municipalities = add(std::make_unique<MunicipalityView>(o.reference));
  if (want("region")) set.typed.region = add(std::make_unique<RegionView>(o.reference));
  if (want("labs")) set.typed.labs = add(std::make_unique<LabView>());
  if (want("schools")) set.typed.schools = add(std::make_unique<SchoolView>(o.rules));
  if (want("gps")) set.typed.gps = add(std::make_unique<GpView>(o.rules));
  return set;
}

std::vector<std::unique_ptr<View>> MakeViews(const ViewSetOptions& o) { return MakeViewSet(o).views; }

}  // namespace caseledger::projections
