#include "serving/rule_adoption.h"

#include <optional>

namespace caseledger::serving {

using replay::WhatIfOptions;
using replay::WhatIfReport;

eventstore::StoreResult<WhatIfReport> WhatIfOverLiveViews(eventstore::EventStore& store, LiveViews* views,
                                                          WhatIfOptions options) {
  if (!views || options.method == WhatIfOptions::Method::kFull) return replay::RunWhatIf(store, options);
  std::optional<eventstore::StoreResult<WhatIfReport>> report;
  views->WithViewsHeld([&](const ServingViews& held) {
    options.live = held.runner.get();
    options.live_views = held.views;
    options.live_rules = held.rules;
    options.until = held.runner->Position();
    if (options.until == 0) options.live = nullptr;  // nothing applied: the full what-if of an empty log
    report = replay::RunWhatIf(store, options);
  });
  return std::move(*report);
}

eventstore::StoreResult<eventstore::AppendResult> AdoptRuleSet(eventstore::EventStore& store,
                                                               const domain::RuleSet& set,
                                                               const replay::RecordOptions& options, LiveViews* views) {
  auto recorded = replay::RecordAdoption(store, set, options);
  if (recorded && views) views->Adopt(recorded->last_position);
  return recorded;
}

}  // namespace caseledger::serving
