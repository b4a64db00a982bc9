// Reads of people: state (now, as recorded at a past instant, or as effective at one),
// lookup by tax code, the full history with envelope metadata, and the access report.
// Each is scoped (api/authz.h) and leaves a record in the access log, whatever its outcome.
#include "api/authz.h"
#include "api/command_service.h"
#include "api/person_cache.h"
#include "api/route_helpers.h"
#include "api/routes.h"
#include "api/tax_code_claims.h"
#include "domain/event_codec.h"
#include "domain/event_json.h"
#include "domain/person_json.h"
#include "domain/tax_code.h"
#include "eventstore/access_log.h"
#include "replay/history.h"
#include "serving/live_views.h"

#include <boost/json.hpp>

#include <algorithm>
#include <charconv>

namespace caseledger::api {

using namespace domain;

namespace {

constexpr size_t kMaxAccessRecords = 1000;

Response NotFound() { return Problem(404, "not-found", "Not found", "person not found"); }

std::optional<Response> ReadInstant(const Request& req, const char* name, std::optional<Timestamp>& out) {
  auto v = req.Query(name);
  if (!v) return std::nullopt;
  out = Timestamp::Parse(*v);
  if (!out) return BadField(name, "must be an RFC 3339 date-time with offset, e.g. 2020-11-01T00:00:00Z");
  return std::nullopt;
}

// One read of a person's data: the scope check on the person as it is now, the answer, and
// the access record.
class PersonRead {
 public:
  PersonRead(const ApiContext& ctx, const RouteRequest& req, const char* endpoint)
      : ctx_(ctx), req_(req), endpoint_(endpoint) {}

  // Loads the person and checks the caller's scope; nullopt when the read may go ahead.
  // With `key` (and a person cache), the answer kept for the person's current state under
  // it comes in the same look-up (TakeRendered()).
  template <class RoleOf>
  std::optional<Response> Admit(const std::string& id, RoleOf role_of, const PersonCache::RenderKey* key = nullptr) {
    // A read whose access record cannot be written is refused, never served unrecorded.
    if (ctx_.access_log) {
      if (auto refused = ctx_.access_log->WriteRefusal()) return FromStoreError(*refused);
    }
    person_id_ = id;
    if (!IsPersonId(id)) return Finish(NotFound());
    PersonCache::Derived* derived = nullptr;  // the front's place for the residence's ASL
    if (key && ctx_.people) {
      // Held by this thread's front of the cache for the rest of the read (no reference
      // counted: person_cache.h).
      auto seen = ctx_.people->Read(*ctx_.store, id, *key);
      if (!seen) return Finish(FromDomainError(seen.error()));
      current_ = seen->state;
      rendered_ = std::move(seen->rendered);
      owned_ = std::move(seen->unkept);
      derived = seen->derived;
    } else {
      auto current = CurrentPerson(ctx_, id);
      if (!current) return Finish(FromDomainError(current.error()));
      owned_ = std::move(*current);
      current_ = owned_.get();
    }
    if (current_->registered) {
      // The residence's ASL from beside the state in this thread's front when it was found
      // for it before (the reference data outlives the cache), else looked up.
      const domain::ReferenceData* ref = ctx_.reference.get();
      std::optional<std::string_view> asl = derived ? derived->Get(ref) : std::nullopt;
      if (!asl) {
        asl = ResidenceAsl(*ref, *current_);
        if (derived) derived->Set(ref, *asl);
      }
      role_ = role_of(req_.principal, *current_, *asl);
    }
    if (!role_) return Finish(NotFound());
    return std::nullopt;
  }
  Response Finish(Response r) {
    if (ctx_.access_log && !person_id_.empty()) {
      ctx_.access_log->Record({now(), req_.principal.subject, role_ ? ToString(*role_) : "", person_id_, endpoint_,
                               r.status});
    }
    return r;
  }
  // The read's instant, read once: the access record's, and the day a current answer is for.
  Timestamp now() {
    if (!now_) now_ = ctx_.clock();
    return *now_;
  }
  const PersonState& current() const { return *current_; }
  // The answer Admit() found kept for the current state under its key; null when none.
  std::shared_ptr<const std::string> TakeRendered() { return std::move(rendered_); }

 private:
  const ApiContext& ctx_;
  const RouteRequest& req_;
  const char* endpoint_;
  std::string_view person_id_;  // the id Admit() was given: the caller's, alive for the read
  std::optional<Role> role_;
  std::optional<Timestamp> now_;
  // The person as Admit() found them: held by `owned_`, or by this thread's front of the
  // person cache until its next call (this read makes none after Admit but Keep).
  const PersonState* current_ = nullptr;
  std::shared_ptr<const std::string> rendered_;  // held by the answer until written
  std::shared_ptr<const PersonState> owned_;
};

Response PersonAnswer(const ApiContext& ctx, const RouteRequest& req, const std::string& id, const char* endpoint) {
  PersonRead read(ctx, req, endpoint);
  AsOf as_of;
  if (auto bad = ReadInstant(req.http, "as_of", as_of.recorded)) return *bad;
  if (auto bad = ReadInstant(req.http, "effective_at", as_of.effective)) return *bad;
  const bool past = as_of.recorded || as_of.effective;
  PersonJsonOptions options;
  options.include_personal = true;
  options.today = (as_of.recorded ? *as_of.recorded : as_of.effective ? *as_of.effective : read.now()).ToDate();
  options.reference = ctx.reference.get();
  // Measure ends by the rules the live views use, so the person and the views agree; a
  // rule adoption changes the answer, hence the rules position in the tag.
  // The book and its position, not the views: a copy of the views' pointer wrote cache
  // lines every reader shares (live_views.h). Held by this thread until its next Rules().
  const serving::LiveViews::RulesNow* live = ctx.views ? &ctx.views->Rules() : nullptr;
  options.rules = live ? live->book : nullptr;
  // The current state's answer is kept once per state, rule book and day, however often
  // it is read: the person's look-up hands it out.
  const PersonCache::RenderKey key{options.rules, live ? live->position : 0, options.today.days};
  if (auto refused = read.Admit(id, PersonReadRoleIn, past ? nullptr : &key)) return *refused;
  uint64_t position = ctx.store->CommittedPosition();
  const PersonState* state = &read.current();
  std::optional<PersonState> past_state;  // made only for a past view
  if (past) {
    auto then = LoadPerson(*ctx.store, id, as_of);
    if (!then) return read.Finish(FromDomainError(then.error()));
    if (!then->registered) return read.Finish(NotFound());
    past_state = std::move(*then);
    state = &*past_state;
  }
  // A past view never changes, so its tag depends only on the version and the instants; the
  // current one also on the day (measures and vaccination status run out at midnight). The
  // tag is a header, so it holds no personal datum: the instants, never the request target
  // (which may be "?tax_code=...").
  // "p<version>-r<rules position>" and "-a<recorded micros>-e<effective micros>" (either
  // empty when not asked) or "-d<day>", written into room made for it once (seven
  // temporaries cost ~500 instructions per person query; appends to a string ~200).
  std::string etag(128, '\0');  // five numbers of at most 20 digits, 11 other characters
  char* at = etag.data();
  char* const end = at + etag.size();
  auto put = [&at](std::string_view text) { at = std::copy(text.begin(), text.end(), at); };
  auto append = [&at, end](auto n) { at = std::to_chars(at, end, n).ptr; };
  put("\"p");
  append(state->version);
  put("-r");
  append(live ? live->position : uint64_t{0});
  if (past) {
    put("-a");
    if (as_of.recorded) append(as_of.recorded->micros);
    put("-e");
    if (as_of.effective) append(as_of.effective->micros);
  } else {
    put("-d");
    append(options.today.days);
  }
  put("\"");
  etag.resize(static_cast<size_t>(at - etag.data()));
  auto render = [&] { return boost::json::serialize(PersonToJson(*state, options)); };
  if (state != &read.current() || !ctx.people) return read.Finish(JsonRead(req.http, render(), std::move(etag), position));
  // The kept answer is held by the response, not copied into it.
  if (auto kept = read.TakeRendered()) return read.Finish(JsonRead(req.http, std::move(kept), std::move(etag), position));
  auto body = std::make_shared<const std::string>(render());
  ctx.people->Keep(id, &read.current(), key, body);
  return read.Finish(JsonRead(req.http, std::move(body), std::move(etag), position));
}

Response History(const ApiContext& ctx, const RouteRequest& req) {
  PersonRead read(ctx, req, "GET /v1/people/{id}/history");
  const std::string& id = req.params.at("id");
  std::optional<Timestamp> as_of;
  if (auto bad = ReadInstant(req.http, "as_of", as_of)) return *bad;
  if (auto refused = read.Admit(id, PersonReadRoleIn)) return *refused;
  uint64_t position = ctx.store->CommittedPosition();
  replay::HistoryOptions options;
  options.as_of = as_of;
  auto history = replay::PersonHistory(*ctx.store, id, options);
  if (!history) {
    if (history.error().code == eventstore::StoreErrorCode::kNotFound) {
      return read.Finish(Problem(404, "not-found", "Not found", "person not found"));
    }
    return read.Finish(FromStoreError(history.error()));
  }
  std::string etag = "\"h" + std::to_string(history->at("version").to_number<uint64_t>()) +
                     (as_of ? "-" + as_of->ToString() : "") + "\"";
  return read.Finish(JsonRead(req.http, boost::json::serialize(*history), etag, position));
}

Response AccessReport(const ApiContext& ctx, const RouteRequest& req) {
  PersonRead read(ctx, req, "GET /v1/people/{id}/access-log");
  uint64_t after = 0;
  if (auto v = req.http.Query("after")) {
    auto r = std::from_chars(v->data(), v->data() + v->size(), after);
    if (r.ec != std::errc{} || r.ptr != v->data() + v->size()) return BadField("after", "must be a sequence number");
  }
  if (!ctx.access_log) return Problem(503, "unavailable", "Unavailable", "this server keeps no access log");
  if (auto refused = read.Admit(req.params.at("id"), AccessReportRoleIn)) return *refused;
  auto records = ctx.access_log->ForPerson(req.params.at("id"), after, kMaxAccessRecords);
  if (!records) return read.Finish(FromStoreError(records.error()));
  boost::json::array list;
  for (const auto& r : *records) {
    list.push_back({{"sequence", r.sequence},
                    {"at", r.record.at.ToString()},
                    {"subject", r.record.subject},
                    {"role", r.record.role},
                    {"endpoint", r.record.endpoint},
                    {"status", r.record.status}});
  }
  boost::json::object body{{"person_id", req.params.at("id")}, {"records", std::move(list)}};
  if (records->size() == kMaxAccessRecords) body["next_after"] = records->back().sequence;
  Response res;
  res.body = boost::json::serialize(body);
  res.Set("Cache-Control", "no-store");
  return read.Finish(std::move(res));
}

}  // namespace

void AddPeopleQueryRoutes(Router& router, const ApiContext& ctx) {
  auto gate = [](const RouteRequest& req, std::initializer_list<Role> roles) -> std::optional<Response> {
    if (HoldsAny(req.principal, roles)) return std::nullopt;
    return Problem(403, "forbidden", "Forbidden", "your role may not read people");
  };
  router.Add({Method::kGet, "/v1/people/{id}", RouteKind::kQuery, true, [&ctx, gate](const RouteRequest& req) {
                if (auto no = gate(req, {Role::kOperator, Role::kGp, Role::kAuditor})) return *no;
                return PersonAnswer(ctx, req, req.params.at("id"), "GET /v1/people/{id}");
              }});
  router.Add({Method::kGet, "/v1/people", RouteKind::kQuery, true, [&ctx, gate](const RouteRequest& req) {
                if (auto no = gate(req, {Role::kOperator, Role::kGp, Role::kAuditor})) return *no;
                auto code = req.http.Query("tax_code");
                if (!code) return BadField("tax_code", "is required (the only supported lookup)");
                auto tc = ParseTaxCode(*code, ctx.clock().ToDate(), "tax_code");
                if (!tc) return FromDomainError(tc.error());
                auto person = PersonByTaxCode(ctx, req.principal, tc->code);
                if (!person) return NotFound();
                return PersonAnswer(ctx, req, *person, "GET /v1/people?tax_code");
              }});
  router.Add({Method::kGet, "/v1/people/{id}/history", RouteKind::kQuery, true, [&ctx, gate](const RouteRequest& req) {
                if (auto no = gate(req, {Role::kOperator, Role::kGp, Role::kAuditor})) return *no;
                return History(ctx, req);
              }});
  router.Add({Method::kGet, "/v1/people/{id}/access-log", RouteKind::kQuery, true, [&ctx, gate](const RouteRequest& req) {
                if (auto no = gate(req, {Role::kOperator, Role::kAuditor})) return *no;
                return AccessReport(ctx, req);
              }});
}

}  // namespace caseledger::api
