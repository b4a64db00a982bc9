#include "api/standby_routes.h"

#include "api/problem.h"
#include "api/replica_routes.h"

namespace caseledger::api {

Router StandbyRouter(const Router& all, const std::string& detail, std::shared_ptr<const std::atomic<bool>> promoted) {
  Router out;
  for (Route r : all.routes()) {
    if (!ServedByReplica(r)) {
      auto refuse = [detail] { return Problem(503, "standby", "This node is a warm standby", detail); };
      if (r.handler) {
        r.handler = [promoted, refuse, inner = std::move(r.handler)](const RouteRequest& req) {
          return promoted->load(std::memory_order_acquire) ? inner(req) : refuse();
        };
      }
      if (r.async_handler) {
        r.async_handler = [promoted, refuse, inner = std::move(r.async_handler)](const RouteRequest& req, Respond respond) {
          if (promoted->load(std::memory_order_acquire)) return inner(req, std::move(respond));
          respond(refuse());
        };
      }
    }
    out.Add(std::move(r));
  }
  return out;
}

}  // namespace caseledger::api
