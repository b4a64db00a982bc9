// The read views of the server, built the same way by `serve`, the rebuilds of replay and
// verify, and the tests: one list, so a rebuild compares like with like; and typed access to
// the views of a set, so that readers ask for the GP view rather than for a view named
// "gps".
#pragma once

#include "domain/reference.h"
#include "domain/rules.h"
#include "eventstore/event_store.h"
#include "projections/view.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace caseledger::projections {

class GpView;
class LabView;
class MunicipalityView;
class RegionView;
class SchoolView;

// Every view, in runner order.
const std::vector<std::string>& AllViewNames();

// "municipalities,gps" -> the names, in runner order; kInvalidArgument names an unknown one.
eventstore::StoreResult<std::vector<std::string>> ParseViewNames(std::string_view list);

struct ViewSetOptions {
  std::shared_ptr<const domain::ReferenceData> reference;
  std::shared_ptr<const domain::RuleBook> rules;
  std::vector<std::string> names;  // empty: every view
};

// The views of a set by type; null for a view not in the set. The views are owned by the
// runner they are given to: the pointers are valid while that runner lives.
struct TypedViews {
  const MunicipalityView* municipalities = nullptr;
  const RegionView* region = nullptr;
  const LabView* labs = nullptr;
  const SchoolView* schools = nullptr;
  const GpView* gps = nullptr;
};

struct ViewSet {
  std::vector<std::unique_ptr<View>> views;  // in runner order, for ViewRunner::Open / Rebuild
  TypedViews typed;                          // the same views
};

ViewSet MakeViewSet(const ViewSetOptions& options);
// MakeViewSet(options).views.
std::vector<std::unique_ptr<View>> MakeViews(const ViewSetOptions& options);

}  // namespace caseledger::projections
