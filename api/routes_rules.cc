// Rule sets (docs/api.md, replay/README.md), from the log: GET /v1/rules lists the sets adopted in the
// rules stream and the state of the views; POST /v1/rules adopts a set, i.e. records a
// RulesAdopted and starts the blue-green rebuild of the views under the new book
// (serving/live_views.h). The old views keep answering until the rebuilt ones switch in.
// POST /v1/rules?dry_run=true answers the what-if diff instead (replay/what_if.h: by
// default incremental, on this command thread, over the live views held at their position
// meanwhile; `&method=full` rebuilds both sides from position 1, as long as two rebuilds;
// `caseledger replay` gives the same on a stopped server).
// Every granted role reads the rules; only an admin adopts (api/authz.h).
#include "api/authz.h"
#include "api/route_helpers.h"
#include "api/routes.h"
#include "serving/live_views.h"
#include "serving/rule_adoption.h"

#include <filesystem>

#include <boost/json.hpp>

namespace caseledger::api {
namespace {

namespace json = boost::json;

json::object SetJson(const replay::Adoption& a) {
  return {{"id", a.set->id()},
          {"effective_from", a.set->effective_from().ToString()},
          {"title", a.set->title()},
          {"position", a.position},
          {"recorded_at", a.recorded_at.ToString()},
          {"adopted_by", {{"id", a.actor.id}, {"role", a.actor.role}}},
          {"superseded_at", a.superseded_at == 0 ? json::value(nullptr) : json::value(a.superseded_at)},
          {"rules", json::parse(a.set->ToJson())}};
}

json::object ViewsState(const ApiContext& ctx) {
  if (!ctx.views) return {};
  serving::AdoptionStatus st = ctx.views->status();
  return {{"rules_position", ctx.views->Current()->rules_position},
          {"rebuilding", st.rebuilding},
          {"target_rules_position", st.target_rules_position},
          {"switches", st.switches},
          {"error", st.error.empty() ? json::value(nullptr) : json::value(st.error)}};
}

// The what-if of `set` against the log's rules, in a work directory of its own.
Response WhatIf(const ApiContext& ctx, const RouteRequest& req, std::shared_ptr<const domain::RuleSet> set) {
  if (!ctx.views) return Problem(503, "views-unavailable", "Views unavailable", "no views to compare with");
  replay::WhatIfOptions o;
  if (auto on = req.http.Query("on")) {
    o.on = domain::Date::Parse(*on);
    if (!o.on) return BadField("on", "must be a date YYYY-MM-DD");
  }
  if (auto method = req.http.Query("method")) {
    if (*method == "full") {
      o.method = replay::WhatIfOptions::Method::kFull;
    } else if (*method != "incremental") {
      return BadField("method", "must be incremental or full");
    }
  }
  o.work_dir = ctx.views->data_dir() + "/whatif-" + ctx.new_id();
  o.reference = ctx.reference;
  o.candidate = std::move(set);
  o.memory_budget = ctx.whatif_memory_budget;
  std::error_code ec;
  std::filesystem::create_directories(o.work_dir, ec);
  if (ec) return Problem(500, "internal", "Internal error", "cannot create a what-if directory");
  const std::string work_dir = o.work_dir;
  auto report = serving::WhatIfOverLiveViews(*ctx.store, ctx.views, std::move(o));
  std::filesystem::remove_all(work_dir, ec);
  if (!report) return FromStoreError(report.error());
  Response r;
  r.body = json::serialize(replay::WhatIfJson(*report));
  r.Set("Cache-Control", "no-store");
  return r;
}

}  // namespace

void AddRulesRoutes(Router& router, const ApiContext& ctx) {
  router.Add({Method::kGet, "/v1/rules", RouteKind::kQuery, true, [&ctx](const RouteRequest& req) {
                if (req.principal.grants.empty()) return Problem(403, "forbidden", "Forbidden", "you hold no grant");
                const uint64_t position = ctx.store->CommittedPosition();
                auto log = replay::RulesLog::Read(*ctx.store);
                if (!log) return FromStoreError(log.error());
                json::array in_force, superseded;
                std::vector<const replay::Adoption*> current;
                for (const auto& a : log->adoptions()) {
                  if (a.superseded_at == 0) {
                    current.push_back(&a);
                  } else {
                    superseded.push_back(SetJson(a));
                  }
                }
                std::stable_sort(current.begin(), current.end(), [](const auto* x, const auto* y) {
                  return x->set->effective_from() < y->set->effective_from();
                });
                for (const auto* a : current) in_force.push_back(SetJson(*a));
                json::object views = ViewsState(ctx);
                json::object body{{"rule_sets", std::move(in_force)},
                                  {"superseded", std::move(superseded)},
                                  {"views", views}};
                std::string etag = "\"rules-" + std::to_string(log->stream_version()) + "-" +
                                   json::serialize(views.contains("rules_position") ? views["rules_position"] : 0) +
                                   (views.contains("rebuilding") && views["rebuilding"].as_bool() ? "-r" : "") + "\"";
                return JsonRead(req.http, json::serialize(body), etag, position);
              }});
  router.Add({Method::kPost, "/v1/rules", RouteKind::kCommand, true, [&ctx](const RouteRequest& req) {
                if (!req.principal.grants.Has(domain::Role::kAdmin)) {
                  return Problem(403, "forbidden", "Forbidden", "only an admin adopts rule sets");
                }
                auto set = domain::RuleSet::Parse(req.http.body);
                if (!set) return FromDomainError(set.error());
                if (auto dry = req.http.Query("dry_run"); dry && *dry != "false") {
                  if (*dry != "true") return BadField("dry_run", "must be true or false");
                  return WhatIf(ctx, req, std::make_shared<const domain::RuleSet>(std::move(*set)));
                }
                replay::RecordOptions options;
                options.actor = {req.principal.subject, domain::ToString(domain::Role::kAdmin)};
                options.correlation_id = std::string(req.http.Header("x-correlation-id"));
                auto recorded = serving::AdoptRuleSet(*ctx.store, *set, options, ctx.views);
                if (!recorded) return FromStoreError(recorded.error());
                json::object body{{"position", recorded->last_position},
                                  {"stream", recorded->stream},
                                  {"version", recorded->version},
                                  {"rule_set_id", set->id()},
                                  {"effective_from", set->effective_from().ToString()},
                                  {"views", ViewsState(ctx)}};
                Response r;
                r.status = 201;
                r.body = json::serialize(body);
                r.Set("X-Position", std::to_string(recorded->last_position));
                return r;
              }});
}

}  // namespace caseledger::api
