// Read views (docs/api.md): municipality, school, GP, lab, region/ASL (DPC bulletin, JSON and
// CSV), and the live stream of view changes. Every answer comes from one published
// snapshot; `min_position` waits until the views reached it; ETag is the views position
// plus the query, so If-None-Match gives 304 until something changes.
#include "api/authz.h"
#include "api/grant_table.h"
#include "api/json_text.h"
#include "api/mayor_figures.h"
#include "api/route_helpers.h"
#include "api/routes.h"
#include "api/school_registry.h"
#include "api/sse.h"
#include "api/view_json.h"
#include "domain/validation.h"
#include "projections/gp_view.h"
#include "projections/lab_view.h"
#include "projections/municipality_view.h"
#include "projections/region_view.h"
#include "projections/school_view.h"
#include "serving/live_views.h"

#include <boost/json.hpp>

#include <set>

namespace caseledger::api {

using namespace projections;
using domain::Role;

namespace {

// Reads ?day=, ?from=, ?to= (dates). `day` defaults to today.
std::optional<Response> ReadDays(const ApiContext& ctx, const Request& req, domain::Date& day, DayRange& range) {
  day = ctx.clock().ToDate();
  for (const char* name : {"day", "from", "to"}) {
    auto v = req.Query(name);
    if (!v) continue;
    auto d = domain::Date::Parse(*v);
    if (!d) return BadField(name, "must be a date YYYY-MM-DD");
    if (std::string_view(name) == "day") day = *d;
    if (std::string_view(name) == "from") range.from = d;
    if (std::string_view(name) == "to") range.to = d;
  }
  if (range.from && range.to && *range.to < *range.from) return BadField("to", "is before from");
  if (range.from && range.to && *range.to - *range.from > kMaxSeriesDays) {
    return BadField("from", "a series holds at most " + std::to_string(kMaxSeriesDays) + " days");
  }
  return std::nullopt;
}

// What one view answer reads: the live views as they were when it started, held for the
// whole answer so that a blue-green switch in the middle of it cannot release them
// (serving/live_views.h), their position then, and the days asked for.
struct ViewAnswer {
  std::shared_ptr<const serving::ServingViews> views;
  uint64_t position = 0;
  domain::Date day;
  DayRange range;
};

// The ETag of a view answer: position, rules the views were built with (rebuilt views may
// answer differently at the same position), query.
std::string ViewTag(const ViewAnswer& a, const Request& req) {
  return "\"v" + std::to_string(a.position) + "-r" + std::to_string(a.views->rules_position) + "-" +
         std::to_string(std::hash<std::string>()(req.target)) + "\"";
}

// The school registry's municipality of view key `key` when it names a school.
std::string SchoolPlace(SchoolRegistry* schools, ViewKind kind, const std::string& key) {
  if (kind != ViewKind::kSchool || !schools) return "";
  auto code = domain::ValidateSchoolCode(key, "school");
  return code ? schools->MunicipalityOf(*code) : "";
}

// 403 when no grant of the caller reads this kind of view, 404 when the key is outside
// every scope; nullopt (and `access` filled) when the read may go ahead.
std::optional<Response> Admit(const ApiContext& ctx, const RouteRequest& req, ViewKind kind,
                              const std::string& key, ViewAccess& access) {
  access = ViewAccessFor(req.principal, kind, key, *ctx.reference, SchoolPlace(ctx.schools, kind, key));
  if (!access.kind_allowed) return Problem(403, "forbidden", "Forbidden", "your role may not read this view");
  if (!access.key_allowed) return Problem(404, "not-found", "Not found", "not found in the views");
  return std::nullopt;
}

// The common frame of a view read: min_position, days, then `render` on the live views.
template <class Render>
Response ViewRead(const ApiContext& ctx, const RouteRequest& req, Render render) {
  ViewAnswer a;
  a.views = ctx.views ? ctx.views->Current() : nullptr;
  if (!a.views) return Problem(503, "views-unavailable", "Views unavailable", "the read views are not running");
  uint64_t min_position = 0;
  if (auto bad = ReadMinPosition(req.http, min_position)) return *bad;
  a.position = a.views->runner->Position();
  if (min_position > a.position) {
    Response wait;
    wait.wait_for_position = min_position;
    return wait;
  }
  if (auto bad = ReadDays(ctx, req.http, a.day, a.range)) return *bad;
  return render(static_cast<const ViewAnswer&>(a));
}

Response Json(const RouteRequest& req, std::optional<boost::json::object> body, const ViewAnswer& a,
              const char* what, bool suppress = false) {
  if (!body) return Problem(404, "not-found", "Not found", std::string(what) + " not found in the views");
  if (suppress) BandForMayor(*body);
  return JsonRead(req.http, JsonText(*body), ViewTag(a, req.http), a.position);
}

// The JSON of a view's report, when there is one.
template <class Report>
std::optional<boost::json::object> Present(const std::optional<Report>& report,
                                          boost::json::object (*present)(const Report&)) {
  return report ? std::optional<boost::json::object>(present(*report)) : std::nullopt;
}

// A change stream stays open while its caller holds exactly the grants it subscribed
// with: any change, above all a revocation, closes it, and the client's reconnect is
// authorized anew.
std::function<bool()> StillHolds(const ApiContext& ctx, const Principal& p) {
  if (!ctx.grants) return {};
  return [grants = ctx.grants, subject = p.subject, held = p.grants.grants()] {
    return grants->For(subject).grants() == held;
  };
}

}  // namespace

void AddViewRoutes(Router& router, const ApiContext& ctx) {
  router.Add({Method::kGet, "/v1/views/municipalities/{istat}", RouteKind::kQuery, true, [&ctx](const RouteRequest& req) {
                ViewAccess access;
                if (auto no = Admit(ctx, req, ViewKind::kMunicipality, req.params.at("istat"), access)) return *no;
                return ViewRead(ctx, req, [&](const ViewAnswer& a) {
                  auto m = a.views->municipalities().Municipality(req.params.at("istat"), a.day, a.range);
                  return Json(req, Present(m, MunicipalityJson), a, "municipality", access.suppress_small_counts);
                });
              }});
  router.Add({Method::kGet, "/v1/views/municipalities", RouteKind::kQuery, true, [&ctx](const RouteRequest& req) {
                if (!HoldsAny(req.principal, {Role::kOperator, Role::kMayor, Role::kAuditor, Role::kAdmin})) {
                  return Problem(403, "forbidden", "Forbidden", "your role may not read this view");
                }
                return ViewRead(ctx, req, [&](const ViewAnswer& a) {
                  MunicipalityFilter filter{req.http.Query("asl").value_or(""), req.http.Query("province").value_or("")};
                  if (!filter.asl.empty() && ctx.reference->MunicipalitiesOfAsl(filter.asl).empty()) {
                    return BadField("asl", "unknown ASL code");
                  }
                  // Only the municipalities in the caller's scopes; a mayor's with small counts hidden.
                  boost::json::object body = MunicipalitiesJson(a.views->municipalities().Municipalities(filter, a.day));
                  if (auto visible = VisibleMunicipalities(req.principal, *ctx.reference)) {
                    boost::json::array kept;
                    for (auto& m : body["municipalities"].as_array()) {
                      std::string istat(m.as_object()["istat"].as_string());
                      if (!visible->contains(istat)) continue;
                      if (ViewAccessFor(req.principal, ViewKind::kMunicipality, istat, *ctx.reference).suppress_small_counts) {
                        BandForMayor(m.as_object());
                      }
                      kept.push_back(std::move(m));
                    }
                    body["municipalities"] = std::move(kept);
                  }
                  return Json(req, std::move(body), a, "view");
                });
              }});
  router.Add({Method::kGet, "/v1/views/schools/{school}", RouteKind::kQuery, true, [&ctx](const RouteRequest& req) {
                ViewAccess access;
                if (auto no = Admit(ctx, req, ViewKind::kSchool, req.params.at("school"), access)) return *no;
                return ViewRead(ctx, req, [&](const ViewAnswer& a) {
                  return Json(req, Present(a.views->schools().School(req.params.at("school"), a.day), SchoolJson), a,
                              "school");
                });
              }});
  router.Add({Method::kGet, "/v1/views/gps/{gp}", RouteKind::kQuery, true, [&ctx](const RouteRequest& req) {
                ViewAccess access;
                if (auto no = Admit(ctx, req, ViewKind::kGp, req.params.at("gp"), access)) return *no;
                return ViewRead(ctx, req, [&](const ViewAnswer& a) {
                  return Json(req, Present(a.views->gps().Gp(req.params.at("gp"), a.day), GpJson), a, "GP");
                });
              }});
  router.Add({Method::kGet, "/v1/views/labs/{lab}", RouteKind::kQuery, true, [&ctx](const RouteRequest& req) {
                ViewAccess access;
                if (auto no = Admit(ctx, req, ViewKind::kLab, req.params.at("lab"), access)) return *no;
                return ViewRead(ctx, req, [&](const ViewAnswer& a) {
                  return Json(req, Present(a.views->labs().Lab(req.params.at("lab"), a.day, a.range), LabJson), a, "lab");
                });
              }});
  router.Add({Method::kGet, "/v1/views/region", RouteKind::kQuery, true, [&ctx](const RouteRequest& req) {
                ViewAccess access;
                if (auto no = Admit(ctx, req, ViewKind::kRegion, "", access)) return *no;
                return ViewRead(ctx, req, [&](const ViewAnswer& a) {
                  std::string area = req.http.Query("asl").value_or("");
                  return Json(req, Present(a.views->region().Area(area, a.day, a.range), RegionJson), a, "area");
                });
              }});
  router.Add({Method::kGet, "/v1/views/region/daily.csv", RouteKind::kQuery, true, [&ctx](const RouteRequest& req) {
                ViewAccess access;
                if (auto no = Admit(ctx, req, ViewKind::kRegion, "", access)) return *no;
                return ViewRead(ctx, req, [&](const ViewAnswer& a) {
                  std::string area = req.http.Query("asl").value_or("");
                  auto rows = a.views->region().Series(area, a.day, a.range);
                  if (!rows) return Problem(404, "not-found", "Not found", "area not found in the views");
                  Response r = JsonRead(req.http, DpcCsv(*rows), ViewTag(a, req.http), a.position);
                  if (r.status == 200) r.content_type = "text/csv; charset=utf-8";
                  return r;
                });
              }});
  router.Add({Method::kGet, "/v1/views/stream", RouteKind::kQuery, true, [&ctx](const RouteRequest& req) {
                if (!ctx.sse) return Problem(503, "views-unavailable", "Views unavailable", "no change stream");
                // ?views=municipalities,region narrows the stream.
                if (req.principal.grants.empty()) return Problem(403, "forbidden", "Forbidden", "you hold no grant");
                std::string only = req.http.Query("views").value_or("");
                Response r;
                // Announcements are scoped like the reads: a caller hears only of keys it may read.
                r.events = ctx.sse->Subscribe([only, p = req.principal, ref = ctx.reference, schools = ctx.schools](
                                                  const std::string& view, const std::string& key) {
                  if (!only.empty() && ("," + only + ",").find("," + view + ",") == std::string::npos) return false;
                  auto kind = ViewKindOf(view);
                  return kind && ViewAccessFor(p, *kind, key, *ref, SchoolPlace(schools, *kind, key)).key_allowed;
                }, StillHolds(ctx, req.principal));
                return r;
              }});
}

}  // namespace caseledger::api
