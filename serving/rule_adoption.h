// Adopting a rule set, one path for POST /v1/rules (api/routes_rules.cc) and `caseledger
// replay [--adopt]` (app/cmd_replay.cc): the what-if of the candidate over the live views,
// and the adoption itself, i.e. the RulesAdopted recorded in the rules stream followed by
// the blue-green rebuild of the views under the new book (live_views.h).
#pragma once

#include "domain/rules.h"
#include "eventstore/event_store.h"
#include "replay/rules_log.h"
#include "replay/what_if.h"
#include "serving/live_views.h"

namespace caseledger::serving {

// The what-if of `options.candidate` (what_if.h). The incremental method runs over `views`
// held still for the whole call (LiveViews::WithViewsHeld: `options.live`, `live_rules` and
// `until` are set from them; on an empty log it is the full what-if); the full method, or a
// null `views`, leaves the live views alone. REQUIRES: `options.work_dir` exists.
eventstore::StoreResult<replay::WhatIfReport> WhatIfOverLiveViews(eventstore::EventStore& store, LiveViews* views,
                                                                  replay::WhatIfOptions options);

// Records `set` as adopted (RecordAdoption) and, with `views`, starts their rebuild under
// the book that now ends at the recorded position (LiveViews::Adopt); the old views keep
// answering until the rebuilt ones switch in. The recorded append is returned whether or not
// a rebuild follows: a failed or abandoned rebuild is retried at the next LiveViews::Open.
eventstore::StoreResult<eventstore::AppendResult> AdoptRuleSet(eventstore::EventStore& store,
                                                               const domain::RuleSet& set,
                                                               const replay::RecordOptions& options, LiveViews* views);

}  // namespace caseledger::serving
