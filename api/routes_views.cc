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
#include "projections/view_runner.h"
#include "replay/live_views.h"

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

// The views one answer reads from: pinned by ViewRead for the duration of its render, so a
// blue-green switch in the middle of an answer cannot release them (replay/live_views.h).
thread_local const replay::ServingViews* pinned_views = nullptr;

class PinViews {
 public:
  explicit PinViews(const replay::ServingViews* views) : previous_(pinned_views) { pinned_views = views; }
  ~PinViews() { pinned_views = previous_; }

 private:
  const replay::ServingViews* previous_;
};

// The ETag of a view answer: position, rules the views were built with (rebuilt views may
// answer differently at the same position), query.
std::string ViewTag(uint64_t position, const Request& req) {
  return "\"v" + std::to_string(position) + "-r" + std::to_string(pinned_views ? pinned_views->rules_position : 0) +
         "-" + std::to_string(std::hash<std::string>()(req.target)) + "\"";
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

// The common frame of a view read: min_position, days, then `render` on the snapshot.
template <class Render>
Response ViewRead(const ApiContext& ctx, const RouteRequest& req, Render render) {
  auto live = ctx.views ? ctx.views->Current() : nullptr;
  if (!live) return Problem(503, "views-unavailable", "Views unavailable", "the read views are not running");
  uint64_t min_position = 0;
  if (auto bad = ReadMinPosition(req.http, min_position)) return *bad;
  uint64_t position = live->runner->Position();
  if (min_position > position) {
    Response wait;
    wait.wait_for_position = min_position;
    return wait;
  }
  domain::Date day;
  DayRange range;
  if (auto bad = ReadDays(ctx, req.http, day, range)) return *bad;
  PinViews pin(live.get());
  return render(day, range, position);
}

Response Json(const ApiContext&, const RouteRequest& req, std::optional<boost::json::object> body,
              uint64_t position, const char* what, bool suppress = false) {
  if (!body) return Problem(404, "not-found", "Not found", std::string(what) + " not found in the views");
  if (suppress) BandForMayor(*body);
  return JsonRead(req.http, JsonText(*body),
                  ViewTag(position, req.http),
                  position);
}

// The JSON of a view's report, when there is one.
template <class Report>
std::optional<boost::json::object> Present(const std::optional<Report>& report,
                                          boost::json::object (*present)(const Report&)) {
  return report ? std::optional<boost::json::object>(present(*report)) : std::nullopt;
}

template <class V>
const V* Find(const ApiContext&, const char* name) {
  return pinned_views ? pinned_views->runner->Get<V>(name) : nullptr;
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
                return ViewRead(ctx, req, [&](domain::Date day, const DayRange& range, uint64_t pos) {
                  const auto* v = Find<MunicipalityView>(ctx, "municipalities");
                  return Json(ctx, req, Present(v ? v->Municipality(req.params.at("istat"), day, range) : std::nullopt, MunicipalityJson), pos,
                              "municipality", access.suppress_small_counts);
                });
              }});
  router.Add({Method::kGet, "/v1/views/municipalities", RouteKind::kQuery, true, [&ctx](const RouteRequest& req) {
                if (!HoldsAny(req.principal, {Role::kOperator, Role::kMayor, Role::kAuditor, Role::kAdmin})) {
                  return Problem(403, "forbidden", "Forbidden", "your role may not read this view");
                }
                return ViewRead(ctx, req, [&](domain::Date day, const DayRange&, uint64_t pos) {
                  const auto* v = Find<MunicipalityView>(ctx, "municipalities");
                  MunicipalityFilter filter{req.http.Query("asl").value_or(""), req.http.Query("province").value_or("")};
                  if (!filter.asl.empty() && ctx.reference->MunicipalitiesOfAsl(filter.asl).empty()) {
                    return BadField("asl", "unknown ASL code");
                  }
                  if (!v) return Problem(404, "not-found", "Not found", "view not found in the views");
                  // Only the municipalities in the caller's scopes; a mayor's with small counts hidden.
                  boost::json::object body = MunicipalitiesJson(v->Municipalities(filter, day));
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
                  return Json(ctx, req, std::move(body), pos, "view");
                });
              }});
  router.Add({Method::kGet, "/v1/views/schools/{school}", RouteKind::kQuery, true, [&ctx](const RouteRequest& req) {
                ViewAccess access;
                if (auto no = Admit(ctx, req, ViewKind::kSchool, req.params.at("school"), access)) return *no;
                return ViewRead(ctx, req, [&](domain::Date day, const DayRange&, uint64_t pos) {
                  const auto* v = Find<SchoolView>(ctx, "schools");
                  return Json(ctx, req, Present(v ? v->School(req.params.at("school"), day) : std::nullopt, SchoolJson), pos, "school");
                });
              }});
  router.Add({Method::kGet, "/v1/views/gps/{gp}", RouteKind::kQuery, true, [&ctx](const RouteRequest& req) {
                ViewAccess access;
                if (auto no = Admit(ctx, req, ViewKind::kGp, req.params.at("gp"), access)) return *no;
                return ViewRead(ctx, req, [&](domain::Date day, const DayRange&, uint64_t pos) {
                  const auto* v = Find<GpView>(ctx, "gps");
                  return Json(ctx, req, Present(v ? v->Gp(req.params.at("gp"), day) : std::nullopt, GpJson), pos, "GP");
                });
              }});
  router.Add({Method::kGet, "/v1/views/labs/{lab}", RouteKind::kQuery, true, [&ctx](const RouteRequest& req) {
                ViewAccess access;
                if (auto no = Admit(ctx, req, ViewKind::kLab, req.params.at("lab"), access)) return *no;
                return ViewRead(ctx, req, [&](domain::Date day, const DayRange& range, uint64_t pos) {
                  const auto* v = Find<LabView>(ctx, "labs");
                  return Json(ctx, req, Present(v ? v->Lab(req.params.at("lab"), day, range) : std::nullopt, LabJson), pos, "lab");
                });
              }});
  router.Add({Method::kGet, "/v1/views/region", RouteKind::kQuery, true, [&ctx](const RouteRequest& req) {
                ViewAccess access;
                if (auto no = Admit(ctx, req, ViewKind::kRegion, "", access)) return *no;
                return ViewRead(ctx, req, [&](domain::Date day, const DayRange& range, uint64_t pos) {
                  const auto* v = Find<RegionView>(ctx, "region");
                  std::string area = req.http.Query("asl").value_or("");
                  return Json(ctx, req, Present(v ? v->Area(area, day, range) : std::nullopt, RegionJson), pos, "area");
                });
              }});
  router.Add({Method::kGet, "/v1/views/region/daily.csv", RouteKind::kQuery, true, [&ctx](const RouteRequest& req) {
                ViewAccess access;
                if (auto no = Admit(ctx, req, ViewKind::kRegion, "", access)) return *no;
                return ViewRead(ctx, req, [&](domain::Date day, const DayRange& range, uint64_t pos) {
                  const auto* v = Find<RegionView>(ctx, "region");
                  std::string area = req.http.Query("asl").value_or("");
                  auto rows = v ? v->Series(area, day, range) : std::nullopt;
                  std::optional<std::string> csv;
                  if (rows) csv = DpcCsv(*rows);
                  if (!csv) return Problem(404, "not-found", "Not found", "area not found in the views");
                  Response r = JsonRead(req.http, std::move(*csv),
                                        ViewTag(pos, req.http),
                                        pos);
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
