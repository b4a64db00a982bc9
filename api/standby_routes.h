// A warm standby (docs/standby.md) answers what a read replica answers (replica_routes.h):
// the views, the rules, the contract and the operations routes. Commands and person queries
// answer 503 problem+json naming the primary until the node is promoted; from then on
// (`promoted` set) every route answers as on a primary.
#pragma once

#include "api/router.h"

#include <atomic>
#include <memory>
#include <string>

namespace caseledger::api {

Router StandbyRouter(const Router& all, const std::string& detail, std::shared_ptr<const std::atomic<bool>> promoted);

}  // namespace caseledger::api
