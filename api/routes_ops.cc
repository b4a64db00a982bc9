// Operations: /healthz, /readyz, /metrics, and the published contract at /v1/openapi.json.
#include "api/metrics.h"
#include "api/route_helpers.h"
#include "api/routes.h"
#include "api/storage_health.h"
#include "serving/live_views.h"

#include <cstdio>

namespace caseledger::api {

extern const char kOpenApiJson[];

void AddOpsRoutes(Router& router, const ApiContext& ctx) {
  router.Add({Method::kGet, "/healthz", RouteKind::kQuery, false, [](const RouteRequest&) {
                Response r;
                r.body = R"({"status":"ok"})";
                return r;
              }});
  router.Add({Method::kGet, "/readyz", RouteKind::kQuery, false, [&ctx](const RouteRequest&) {
                uint64_t committed = ctx.store->CommittedPosition();
                if (ctx.startup_status) {
                  // Starting: the views catch up; nothing else of the context is read yet.
                  if (std::string catch_up = ctx.startup_status(); !catch_up.empty()) {
                    Response r;
                    r.status = 503;
                    r.body = R"({"status":"starting","committed_position":)" + std::to_string(committed) + "," +
                             catch_up + "}";
                    r.Set("Retry-After", "5");
                    return r;
                  }
                }
                uint64_t views = ctx.views ? ctx.views->Position() : committed;
                bool failed = ctx.views && !ctx.views->failure().empty();
                bool ready = views >= committed && !failed;
                Response r;
                r.status = ready ? 200 : 503;
                const char* state = !ready ? (failed ? "views_stopped" : "catching_up")
                                    : StorageAcceptsWrites(ctx) ? "ready"
                                                                : "writes_refused";
                r.body = std::string(R"({"status":")") + state +
                         R"(","committed_position":)" + std::to_string(committed) +
                         R"(,"views_position":)" + std::to_string(views);
                // A rebuild under newly adopted rules: where it stands (the old views answer).
                if (ctx.views) {
                  const auto status = ctx.views->status();
                  if (status.rebuilding) {
                    const auto& p = status.progress;
                    char rate[64];
                    std::snprintf(rate, sizeof rate, "%.0f,\"eta_seconds\":%.0f", p.events_per_second, p.eta_seconds);
                    r.body += R"(,"rebuild":{"position":)" + std::to_string(p.position) +
                              R"(,"target":)" + std::to_string(p.target) + R"(,"events_per_second":)" + rate + "}";
                  }
                }
                // Writes refused (disk full, a failed write) keep the node ready: it still
                // answers reads; the fields say why writes are refused.
                r.body += "," + StorageStatusJson(ctx);
                if (ctx.standby_status) {
                  if (std::string standby = ctx.standby_status(); !standby.empty()) r.body += "," + standby;
                }
                r.body += "}";
                if (!ready) r.Set("Retry-After", "1");
                return r;
              }});
  router.Add({Method::kGet, "/metrics", RouteKind::kQuery, false, [&ctx](const RouteRequest&) {
                Response r;
                r.content_type = "text/plain; version=0.0.4";
                r.body = ctx.metrics ? ctx.metrics->Render() : "";
                return r;
              }});
  static const std::string openapi = kOpenApiJson;
  router.Add({Method::kGet, "/v1/openapi.json", RouteKind::kQuery, false, [](const RouteRequest& req) {
                return JsonRead(req.http, openapi, "\"openapi-" + std::to_string(std::hash<std::string>()(openapi)) + "\"", 0);
              }});
}

void AddAllRoutes(Router& router, const ApiContext& ctx) {
  AddOpsRoutes(router, ctx);
  AddPeopleRoutes(router, ctx);
  AddPeopleQueryRoutes(router, ctx);
  AddErasureRoutes(router, ctx);
  AddSwabRoutes(router, ctx);
  AddMeasureRoutes(router, ctx);
  AddViewRoutes(router, ctx);
  AddRulesRoutes(router, ctx);
  AddAuditRoutes(router, ctx);
  AddGrantRoutes(router, ctx);
  AddSchoolRoutes(router, ctx);
}

}  // namespace caseledger::api
