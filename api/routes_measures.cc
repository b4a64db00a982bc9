// Measures and the course of a case: isolation, quarantine, ending a measure, contacts,
// hospital stays, closure; and class quarantines on a school.
#include "api/command_bodies.h"
#include "api/command_service.h"
#include "api/route_helpers.h"
#include "api/routes.h"

#include <charconv>

namespace caseledger::api {

using namespace domain;

void AddMeasureRoutes(Router& router, const ApiContext& ctx) {
  AddPersonCommand<OrderIsolation>(router, ctx, "/v1/people/{id}/isolation", ReadOrderIsolation);
  AddPersonCommand<OrderQuarantine>(router, ctx, "/v1/people/{id}/quarantine", ReadOrderQuarantine);
  router.Add({Method::kPost, "/v1/people/{id}/measures/{m}/end", RouteKind::kDeferredCommand, true,
              [&ctx](const RouteRequest& req) {
                EndMeasure command;
                const std::string& m = req.params.at("m");
                auto r = std::from_chars(m.data(), m.data() + m.size(), command.measure_id);
                if (r.ec != std::errc{} || r.ptr != m.data() + m.size() || command.measure_id == 0) {
                  return Problem(404, "not-found", "Not found", "measure " + m + " not found");
                }
                if (auto bad = ReadCommand<EndMeasure>(req.http, command, ReadEndMeasure)) return *bad;
                return RunPersonCommand(ctx, req, req.params.at("id"), PersonCommand{command});
              }});
  AddPersonCommand<ReportContact>(router, ctx, "/v1/people/{id}/contacts", ReadReportContact);
  router.Add({Method::kPost, "/v1/people/{id}/hospitalisation", RouteKind::kDeferredCommand, true,
              [&ctx](const RouteRequest& req) {
                HospitalStep step;
                if (auto bad = ReadCommand<HospitalStep>(req.http, step, ReadHospitalStep)) return *bad;
                return RunPersonCommand(ctx, req, req.params.at("id"), HospitalCommand(step));
              }});
  AddPersonCommand<CloseCase>(router, ctx, "/v1/people/{id}/closure", ReadCloseCase);
  router.Add({Method::kPost, "/v1/schools/{school}/classes/{class}/quarantine", RouteKind::kCommand, true,
              [&ctx](const RouteRequest& req) {
                OrderClassQuarantine command;
                if (auto bad = ReadCommand<OrderClassQuarantine>(req.http, command, ReadOrderClassQuarantine)) return *bad;
                command.class_label = req.params.at("class");
                return RunSchoolCommand(ctx, req, req.params.at("school"), SchoolCommand{command});
              }});
}

}  // namespace caseledger::api
