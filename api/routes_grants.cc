// Grants (docs/security.md): who holds which role over which scope, recorded in the `users` stream.
// Admins grant and revoke (a role that opens personal data takes two admins: api/grants.h);
// auditors read; everyone may ask who they are.
#include "api/authz.h"
#include "api/grant_table.h"
#include "api/grants.h"
#include "api/json_body.h"
#include "api/problem.h"
#include "api/route_helpers.h"
#include "api/routes.h"

#include <boost/json.hpp>

namespace caseledger::api {
namespace {

using domain::Role;

boost::json::array GrantsJson(const domain::GrantSet& set) {
  boost::json::array out;
  for (const domain::Grant& g : set.grants()) {
    boost::json::object o{{"role", domain::ToString(g.role)}};
    o["scope"] = g.scope.empty() ? boost::json::value(nullptr) : boost::json::value(g.scope);
    out.push_back(std::move(o));
  }
  return out;
}

Response Forbidden() { return Problem(403, "forbidden", "Forbidden", "only an admin manages grants"); }

boost::json::object GrantJson(const std::string& user, const domain::Grant& grant) {
  boost::json::object o{{"user", user}, {"role", domain::ToString(grant.role)}};
  o["scope"] = grant.scope.empty() ? boost::json::value(nullptr) : boost::json::value(grant.scope);
  return o;
}

Response Answer(int status, boost::json::object o, uint64_t position) {
  o["position"] = position;
  Response r;
  r.status = status;
  r.body = boost::json::serialize(o);
  r.Set("X-Position", std::to_string(position));
  return r;
}

// POST /v1/grants: at once for a role that opens no personal data, else the first admin's
// request or the second admin's approval (api/grants.h).
Response GrantOrRequest(const ApiContext& ctx, const RouteRequest& req, const std::string& user, const domain::Grant& grant) {
  auto outcome = RequestGrant(*ctx.store, user, grant, {req.principal.subject, "admin"}, ctx.clock());
  if (!outcome) return FromStoreError(outcome.error());
  boost::json::object o = GrantJson(user, grant);
  switch (outcome->step) {
    case GrantStep::kAlreadyHeld:
      o["changed"] = false;
      o["status"] = "granted";
      return Answer(200, std::move(o), outcome->position);
    case GrantStep::kGranted:
      o["changed"] = true;
      o["status"] = "granted";
      if (!outcome->requested_by.empty()) o["requested_by"] = outcome->requested_by;
      return Answer(201, std::move(o), outcome->position);
    case GrantStep::kRequested:
    case GrantStep::kStillPending:
      o["changed"] = outcome->step == GrantStep::kRequested;
      o["status"] = "pending";
      o["requested_by"] = outcome->requested_by;
      return Answer(202, std::move(o), outcome->position);
  }
  return Problem(500, "internal", "Internal error", "unknown grant step");
}

Response Revoke(const ApiContext& ctx, const RouteRequest& req, const std::string& user, const domain::Grant& grant) {
  auto change = RecordGrant(*ctx.store, user, grant, true, {req.principal.subject, "admin"}, ctx.clock());
  if (!change) return FromStoreError(change.error());
  if (!change->changed) return Problem(404, "not-found", "Not found", "the user does not hold this grant");
  boost::json::object o = GrantJson(user, grant);
  o["changed"] = true;
  return Answer(200, std::move(o), change->position);
}

Response Withdraw(const ApiContext& ctx, const RouteRequest& req, const std::string& user, const domain::Grant& grant) {
  auto change = WithdrawGrantRequest(*ctx.store, user, grant, {req.principal.subject, "admin"}, ctx.clock());
  if (!change) return FromStoreError(change.error());
  if (!change->changed) return Problem(404, "not-found", "Not found", "no such grant request is pending");
  boost::json::object o = GrantJson(user, grant);
  o["changed"] = true;
  o["status"] = "withdrawn";
  return Answer(200, std::move(o), change->position);
}

// DELETE /v1/grants/{user}/{role}[/{scope}] and /v1/grant-requests/...: `act` on the grant
// the path names.
template <class Act>
Response OnPathGrant(const ApiContext& ctx, const RouteRequest& req, Act act) {
  if (!req.principal.grants.Has(Role::kAdmin)) return Forbidden();
  const std::string* scope = req.params.Find("scope");
  auto grant = domain::ValidateGrant(req.params.at("role"), scope ? *scope : "", *ctx.reference);
  if (!grant) return FromDomainError(grant.error());
  return act(ctx, req, req.params.at("user"), *grant);
}

}  // namespace

void AddGrantRoutes(Router& router, const ApiContext& ctx) {
  router.Add({Method::kPost, "/v1/grants", RouteKind::kCommand, true, [&ctx](const RouteRequest& req) {
                if (!req.principal.grants.Has(Role::kAdmin)) return Forbidden();
                std::string error;
                auto object = ParseJsonObject(req.http.body, &error);
                if (!object) return MalformedBody(req.http.body, error);
                domain::FieldErrors errors;
                JsonFields f(*object, errors);
                std::string user = f.String("user").value_or("");
                std::string role = f.String("role").value_or("");
                std::string scope = f.String("scope", false).value_or("");
                f.RejectUnknown();
                if (!errors.empty()) return FromDomainError(errors.ToError());
                if (!ValidSubject(user)) return BadField("user", "must be 1-128 printable characters without spaces");
                // Separation of duties: nobody widens their own rights.
                if (user == req.principal.subject) {
                  return Problem(403, "separation-of-duties", "Forbidden",
                                 "no one grants a role to themselves; another admin must");
                }
                auto grant = domain::ValidateGrant(role, scope, *ctx.reference);
                if (!grant) return FromDomainError(grant.error());
                return GrantOrRequest(ctx, req, user, *grant);
              }});
  for (const char* pattern : {"/v1/grants/{user}/{role}", "/v1/grants/{user}/{role}/{scope}"}) {
    router.Add({Method::kDelete, pattern, RouteKind::kCommand, true,
                [&ctx](const RouteRequest& req) { return OnPathGrant(ctx, req, Revoke); }});
  }
  for (const char* pattern : {"/v1/grant-requests/{user}/{role}", "/v1/grant-requests/{user}/{role}/{scope}"}) {
    router.Add({Method::kDelete, pattern, RouteKind::kCommand, true,
                [&ctx](const RouteRequest& req) { return OnPathGrant(ctx, req, Withdraw); }});
  }
  router.Add({Method::kGet, "/v1/grant-requests", RouteKind::kQuery, true, [&ctx](const RouteRequest& req) {
                if (!HoldsAny(req.principal, {Role::kAdmin, Role::kAuditor})) {
                  return Problem(403, "forbidden", "Forbidden", "only admins and auditors read grant requests");
                }
                auto pending = PendingGrants(*ctx.store);
                if (!pending) return FromStoreError(pending.error());
                boost::json::array list;
                for (const PendingGrant& p : *pending) {
                  boost::json::object o = GrantJson(p.user, p.grant);
                  o["requested_by"] = p.requested_by;
                  o["position"] = p.position;
                  list.push_back(std::move(o));
                }
                Response r;
                r.body = boost::json::serialize(boost::json::object{{"requests", std::move(list)}});
                r.Set("Cache-Control", "no-store");
                return r;
              }});
  router.Add({Method::kGet, "/v1/grants", RouteKind::kQuery, true, [&ctx](const RouteRequest& req) {
                if (!HoldsAny(req.principal, {Role::kAdmin, Role::kAuditor})) {
                  return Problem(403, "forbidden", "Forbidden", "only admins and auditors read grants");
                }
                auto only = req.http.Query("user");
                boost::json::array users;
                auto all = ctx.grants->All();
                std::vector<std::string> names;
                for (const auto& [user, set] : all) {
                  if (!only || *only == user) names.push_back(user);
                }
                std::sort(names.begin(), names.end());
                for (const auto& user : names) users.push_back({{"user", user}, {"grants", GrantsJson(all.at(user))}});
                Response r;
                r.body = boost::json::serialize(boost::json::object{{"users", std::move(users)}});
                r.Set("Cache-Control", "no-store");
                return r;
              }});
  router.Add({Method::kGet, "/v1/me", RouteKind::kQuery, true, [](const RouteRequest& req) {
                Response r;
                r.body = boost::json::serialize(
                    boost::json::object{{"subject", req.principal.subject}, {"grants", GrantsJson(req.principal.grants)}});
                r.Set("Cache-Control", "no-store");
                return r;
              }});
}

}  // namespace caseledger::api
