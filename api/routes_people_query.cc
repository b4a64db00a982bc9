// Reads of people: state (now, as recorded at a past instant, or as effective at one),
// lookup by tax code, and the full history with envelope metadata.
#include "api/command_service.h"
#include "api/route_helpers.h"
#include "api/routes.h"
#include "domain/event_codec.h"
#include "domain/event_json.h"
#include "domain/person_json.h"
#include "domain/tax_code.h"
#include "replay/history.h"
#include "replay/live_views.h"

#include <boost/json.hpp>

namespace caseledger::api {

using namespace domain;

namespace {

Response NotFound() { return Problem(404, "not-found", "Not found", "person not found"); }

std::optional<Response> ReadInstant(const Request& req, const char* name, std::optional<Timestamp>& out) {
  auto v = req.Query(name);
  if (!v) return std::nullopt;
  out = Timestamp::Parse(*v);
  if (!out) return BadField(name, "must be an RFC 3339 date-time with offset, e.g. 2020-11-01T00:00:00Z");
  return std::nullopt;
}

Response PersonAnswer(const ApiContext& ctx, const Request& req, const std::string& id) {
  if (!ValidatePersonId(id, "id")) return NotFound();
  AsOf as_of;
  if (auto bad = ReadInstant(req, "as_of", as_of.recorded)) return *bad;
  if (auto bad = ReadInstant(req, "effective_at", as_of.effective)) return *bad;
  uint64_t position = ctx.store->CommittedPosition();
  auto state = LoadPerson(*ctx.store, id, as_of);
  if (!state) return FromDomainError(state.error());
  if (!state->registered) return NotFound();
  PersonJsonOptions options;
  options.include_personal = true;
  options.today = (as_of.recorded ? *as_of.recorded : as_of.effective ? *as_of.effective : ctx.clock()).ToDate();
  options.reference = ctx.reference.get();
  // Measure ends by the rules the live views use, so the person and the views agree.
  auto live = ctx.views ? ctx.views->Current() : nullptr;
  options.rules = live ? live->rules.get() : nullptr;
  boost::json::object body = PersonToJson(*state, options);
  // Measure ends follow the live views' rules: a rule adoption changes the answer.
  std::string etag = "\"p" + std::to_string(state->version) + "-r" + std::to_string(live ? live->rules_position : 0) +
                     (as_of.recorded || as_of.effective ? "-" + req.target : "") + "\"";
  // A past view never changes, so its tag depends only on the version and the instant.
  return JsonRead(req, boost::json::serialize(body), etag, position);
}

}  // namespace

void AddPeopleQueryRoutes(Router& router, const ApiContext& ctx) {
  router.Add({Method::kGet, "/v1/people/{id}", RouteKind::kQuery, true,
              [&ctx](const RouteRequest& req) { return PersonAnswer(ctx, req.http, req.params.at("id")); }});
  router.Add({Method::kGet, "/v1/people", RouteKind::kQuery, true, [&ctx](const RouteRequest& req) {
                auto code = req.http.Query("tax_code");
                if (!code) return BadField("tax_code", "is required (the only supported lookup)");
                auto tc = ParseTaxCode(*code, ctx.clock().ToDate(), "tax_code");
                if (!tc) return FromDomainError(tc.error());
                auto person = PersonOfClaim(*ctx.store, "taxcode/" + tc->code);
                if (!person) return NotFound();
                return PersonAnswer(ctx, req.http, *person);
              }});
  router.Add({Method::kGet, "/v1/people/{id}/history", RouteKind::kQuery, true, [&ctx](const RouteRequest& req) {
                const std::string& id = req.params.at("id");
                if (!ValidatePersonId(id, "id")) return NotFound();
                std::optional<Timestamp> as_of;
                if (auto bad = ReadInstant(req.http, "as_of", as_of)) return *bad;
                uint64_t position = ctx.store->CommittedPosition();
                replay::HistoryOptions options;
                options.as_of = as_of;
                auto history = replay::PersonHistory(*ctx.store, id, options);
                if (!history) {
                  if (history.error().code == eventstore::StoreErrorCode::kNotFound) return NotFound();
                  return FromStoreError(history.error());
                }
                std::string etag = "\"h" + std::to_string(history->at("version").to_number<uint64_t>()) +
                                   (as_of ? "-" + as_of->ToString() : "") + "\"";
                return JsonRead(req.http, boost::json::serialize(*history), etag, position);
              }});
}

}  // namespace caseledger::api
