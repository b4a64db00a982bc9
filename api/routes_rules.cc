// Rule sets: GET /v1/rules lists those in force (shipped and adopted). Adoption through
// POST /v1/rules comes with the replay issue (#5), which rebuilds the views under them.
#include "api/authz.h"
#include "api/route_helpers.h"
#include "api/routes.h"

#include <boost/json.hpp>

namespace caseledger::api {

void AddRulesRoutes(Router& router, const ApiContext& ctx) {
  router.Add({Method::kGet, "/v1/rules", RouteKind::kQuery, true, [&ctx](const RouteRequest& req) {
                if (req.principal.grants.empty()) return Problem(403, "forbidden", "Forbidden", "you hold no grant");
                boost::json::array sets;
                for (const auto& set : ctx.rules->sets()) {
                  sets.push_back({{"id", set.id()},
                                  {"effective_from", set.effective_from().ToString()},
                                  {"title", set.title()},
                                  {"rules", boost::json::parse(set.ToJson())}});
                }
                boost::json::object body{{"rule_sets", std::move(sets)}};
                return JsonRead(req.http, boost::json::serialize(body),
                                "\"rules-" + std::to_string(ctx.rules->sets().size()) + "\"",
                                ctx.store->CommittedPosition());
              }});
  router.Add({Method::kPost, "/v1/rules", RouteKind::kCommand, true, [](const RouteRequest& req) {
                if (!req.principal.grants.Has(Role::kAdmin)) {
                  return Problem(403, "forbidden", "Forbidden", "only an admin adopts rule sets");
                }
                return Problem(501, "not-implemented", "Rule adoption not built yet",
                               "adopting a rule set rebuilds the views; it comes with the replay issue (#5)");
              }});
}

}  // namespace caseledger::api
