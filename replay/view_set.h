// The read views of the server, built the same way by `serve`, the rebuilds of replay and
// verify, and the tests: one list, so a rebuild compares like with like.
#pragma once

#include "domain/reference.h"
#include "domain/rules.h"
#include "eventstore/event_store.h"
#include "projections/view.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace caseledger::replay {

// Every view, in runner order.
const std::vector<std::string>& AllViewNames();

// "municipalities,gps" -> the names, in runner order; kInvalidArgument names an unknown one.
eventstore::StoreResult<std::vector<std::string>> ParseViewNames(std::string_view list);

struct ViewSetOptions {
  std::shared_ptr<const domain::ReferenceData> reference;
  std::shared_ptr<const domain::RuleBook> rules;
  std::vector<std::string> names;  // empty: every view
};

std::vector<std::unique_ptr<projections::View>> MakeViews(const ViewSetOptions& options);

}  // namespace caseledger::replay
