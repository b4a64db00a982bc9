// The school registry (docs/security.md, audit finding 4): where each school is, which
// decides whose operators act on it (api/school_registry.h).
#include "api/authz.h"
#include "api/problem.h"
#include "api/routes.h"
#include "api/school_registry.h"

#include <boost/json.hpp>

namespace caseledger::api {

void AddSchoolRoutes(Router& router, const ApiContext& ctx) {
  router.Add({Method::kGet, "/v1/schools", RouteKind::kQuery, true, [&ctx](const RouteRequest& req) {
                // Where schools are is public; only callers with a grant read it.
                if (req.principal.grants.empty()) return Problem(403, "forbidden", "Forbidden", "you hold no grant");
                boost::json::array list;
                if (ctx.schools) {
                  for (const auto& [school, istat] : ctx.schools->All()) {
                    list.push_back({{"school", school}, {"istat", istat}, {"asl", AslOf(*ctx.reference, istat)}});
                  }
                }
                Response res;
                res.body = boost::json::serialize(boost::json::object{{"schools", std::move(list)}});
                res.Set("Cache-Control", "no-store");
                return res;
              }});
}

}  // namespace caseledger::api
