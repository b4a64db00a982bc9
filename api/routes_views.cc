// Read views (SPEC §4). Until the projections land, every view path answers 501 with a
// problem+json saying so, so clients can tell "not built" from "not found".
#include "api/route_helpers.h"
#include "api/routes.h"

namespace caseledger::api {

void AddViewRoutes(Router& router, const ApiContext&) {
  const char* paths[] = {"/v1/views/municipalities/{istat}", "/v1/views/municipalities",
                         "/v1/views/schools/{school}",       "/v1/views/gps/{gp}",
                         "/v1/views/labs/{lab}",             "/v1/views/region",
                         "/v1/views/region/daily.csv",       "/v1/views/stream"};
  for (const char* p : paths) {
    router.Add({Method::kGet, p, RouteKind::kQuery, true, [](const RouteRequest& req) {
                  return Problem(501, "not-implemented", "View not built yet",
                                 "the read views (" + req.http.path +
                                     ") come with the projections issue (#4)");
                }});
  }
}

}  // namespace caseledger::api
