// A read replica answers only what its views hold (docs/nats.md): the view routes, the rules,
// the contract and the operations routes. Every other route — commands, and person
// queries, which need the log with its personal data — keeps its place in the router (so
// 404/405 stay as on the primary) but answers 503 problem+json naming the primary.
#pragma once

#include "api/router.h"

#include <string>

namespace caseledger::api {

// True for the routes a replica serves itself.
bool ServedByReplica(const Route& route);

// `all` with every route a replica does not serve answering 503 with `detail`.
Router ReplicaRouter(const Router& all, const std::string& detail);

}  // namespace caseledger::api
