// Measures and the course of a case: isolation, quarantine, ending a measure, contacts,
// hospital stays, closure; and class quarantines on a school.
#include "api/command_service.h"
#include "api/route_helpers.h"
#include "api/routes.h"

#include <charconv>

namespace caseledger::api {

using namespace domain;

namespace {

// POST /v1/people/{id}/hospitalisation carries one of three events.
struct HospitalStep {
  std::string kind;
  Timestamp at;
  std::string facility;
};

Response RunHospitalStep(const ApiContext& ctx, const RouteRequest& req, const HospitalStep& s) {
  const std::string& id = req.params.at("id");
  if (s.kind == "admission") return RunPersonCommand(ctx, req, id, PersonCommand{Hospitalize{s.at, s.facility}});
  if (s.kind == "icu") return RunPersonCommand(ctx, req, id, PersonCommand{AdmitToIcu{s.at, s.facility}});
  return RunPersonCommand(ctx, req, id, PersonCommand{Discharge{s.at, s.facility}});
}

}  // namespace

void AddMeasureRoutes(Router& router, const ApiContext& ctx) {
  AddPersonCommand<OrderIsolation>(router, ctx, "/v1/people/{id}/isolation",
                                   [](JsonFields& f, OrderIsolation& c, FieldErrors&) {
                                     c.start = f.Date("start").value_or(Date{});
                                     c.reason = f.String("reason").value_or("");
                                     c.end = f.Date("end", false);
                                   });
  AddPersonCommand<OrderQuarantine>(router, ctx, "/v1/people/{id}/quarantine",
                                    [](JsonFields& f, OrderQuarantine& c, FieldErrors&) {
                                      c.start = f.Date("start").value_or(Date{});
                                      c.reason = f.String("reason").value_or("");
                                      c.source_case = f.String("source_case", false).value_or("");
                                      c.end = f.Date("end", false);
                                    });
  router.Add({Method::kPost, "/v1/people/{id}/measures/{m}/end", RouteKind::kCommand, true,
              [&ctx](const RouteRequest& req) {
                EndMeasure command;
                const std::string& m = req.params.at("m");
                auto r = std::from_chars(m.data(), m.data() + m.size(), command.measure_id);
                if (r.ec != std::errc{} || r.ptr != m.data() + m.size() || command.measure_id == 0) {
                  return Problem(404, "not-found", "Not found", "measure " + m + " not found");
                }
                CommandReader<EndMeasure> read = [](JsonFields& f, EndMeasure& c, FieldErrors& e) {
                  c.at = f.Date("at").value_or(Date{});
                  c.reason = EnumField<MeasureEndReason>(f, e, "reason", ParseMeasureEndReason,
                                                         "negative_test, elapsed, revoked")
                                 .value_or(MeasureEndReason::kElapsed);
                };
                if (auto bad = ReadCommand<EndMeasure>(req.http, command, read)) return *bad;
                return RunPersonCommand(ctx, req, req.params.at("id"), PersonCommand{command});
              }});
  AddPersonCommand<ReportContact>(router, ctx, "/v1/people/{id}/contacts",
                                  [](JsonFields& f, ReportContact& c, FieldErrors&) {
                                    c.contact_of = f.String("contact_of").value_or("");
                                    c.last_exposure = f.Date("last_exposure").value_or(Date{});
                                  });
  router.Add({Method::kPost, "/v1/people/{id}/hospitalisation", RouteKind::kCommand, true,
              [&ctx](const RouteRequest& req) {
                HospitalStep step;
                CommandReader<HospitalStep> read = [](JsonFields& f, HospitalStep& s, FieldErrors& e) {
                  auto kind = f.String("kind");
                  s.kind = kind.value_or("");
                  if (kind && s.kind != "admission" && s.kind != "icu" && s.kind != "discharge") {
                    e.Add("kind", "must be one of admission, icu, discharge");
                  }
                  s.at = f.Time("at").value_or(Timestamp{});
                  s.facility = f.String("facility", false).value_or("");
                };
                if (auto bad = ReadCommand<HospitalStep>(req.http, step, read)) return *bad;
                return RunHospitalStep(ctx, req, step);
              }});
  AddPersonCommand<CloseCase>(router, ctx, "/v1/people/{id}/closure",
                              [](JsonFields& f, CloseCase& c, FieldErrors& e) {
                                c.outcome = EnumField<CaseOutcome>(f, e, "outcome", ParseCaseOutcome,
                                                                   "recovered, deceased")
                                                .value_or(CaseOutcome::kRecovered);
                                c.at = f.Date("at").value_or(Date{});
                              });
  router.Add({Method::kPost, "/v1/schools/{school}/classes/{class}/quarantine", RouteKind::kCommand, true,
              [&ctx](const RouteRequest& req) {
                OrderClassQuarantine command;
                CommandReader<OrderClassQuarantine> read = [](JsonFields& f, OrderClassQuarantine& c, FieldErrors&) {
                  c.start = f.Date("start").value_or(Date{});
                  c.reason = f.String("reason").value_or("");
                  c.end = f.Date("end", false);
                };
                if (auto bad = ReadCommand<OrderClassQuarantine>(req.http, command, read)) return *bad;
                command.class_label = req.params.at("class");
                return RunSchoolCommand(ctx, req, req.params.at("school"), SchoolCommand{command});
              }});
}

}  // namespace caseledger::api
