#include "api/replica_routes.h"

#include "api/problem.h"

namespace caseledger::api {

bool ServedByReplica(const Route& route) {
  const std::string& p = route.pattern;
  if (Writes(route.kind)) return false;
  return p.starts_with("/v1/views") || p == "/healthz" || p == "/readyz" || p == "/metrics" ||
         p == "/v1/openapi.json" || (p == "/v1/rules" && route.method == Method::kGet);
}

Router ReplicaRouter(const Router& all, const std::string& detail) {
  Router out;
  for (Route r : all.routes()) {
    if (!ServedByReplica(r)) {
      r.kind = RouteKind::kQuery;  // nothing to wait for: answer on the I/O thread
      r.async_handler = nullptr;
      r.handler = [detail](const RouteRequest&) {
        return Problem(503, "read-replica", "This node is a read replica", detail);
      };
    }
    out.Add(std::move(r));
  }
  return out;
}

}  // namespace caseledger::api
