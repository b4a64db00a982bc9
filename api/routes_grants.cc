// Grants (docs/security.md): who holds which role over which scope, recorded in the `users` stream.
// Admins grant and revoke; auditors read; everyone may ask who they are.
#include "api/authz.h"
#include "api/grant_table.h"
#include "api/grants.h"
#include "api/json_body.h"
#include "api/problem.h"
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

Response Change(const ApiContext& ctx, const RouteRequest& req, const std::string& user, const domain::Grant& grant,
                bool revoke) {
  auto change = RecordGrant(*ctx.store, user, grant, revoke, {req.principal.subject, "admin"}, ctx.clock());
  if (!change) return FromStoreError(change.error());
  if (revoke && !change->changed) return Problem(404, "not-found", "Not found", "the user does not hold this grant");
  boost::json::object o{{"user", user}, {"role", domain::ToString(grant.role)}, {"changed", change->changed},
                        {"position", change->position}};
  o["scope"] = grant.scope.empty() ? boost::json::value(nullptr) : boost::json::value(grant.scope);
  Response r;
  r.status = change->changed && !revoke ? 201 : 200;
  r.body = boost::json::serialize(o);
  r.Set("X-Position", std::to_string(change->position));
  return r;
}

Response Revoke(const ApiContext& ctx, const RouteRequest& req) {
  if (!req.principal.grants.Has(Role::kAdmin)) return Forbidden();
  const std::string& user = req.params.at("user");
  auto it = req.params.find("scope");
  auto grant = domain::ValidateGrant(req.params.at("role"), it == req.params.end() ? "" : it->second, *ctx.reference);
  if (!grant) return FromDomainError(grant.error());
  return Change(ctx, req, user, *grant, true);
}

}  // namespace

void AddGrantRoutes(Router& router, const ApiContext& ctx) {
  router.Add({Method::kPost, "/v1/grants", RouteKind::kCommand, true, [&ctx](const RouteRequest& req) {
                if (!req.principal.grants.Has(Role::kAdmin)) return Forbidden();
                std::string error;
                auto object = ParseJsonObject(req.http.body, &error);
                if (!object) return Problem(400, "malformed-body", "Malformed body", error);
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
                return Change(ctx, req, user, *grant, false);
              }});
  router.Add({Method::kDelete, "/v1/grants/{user}/{role}", RouteKind::kCommand, true,
              [&ctx](const RouteRequest& req) { return Revoke(ctx, req); }});
  router.Add({Method::kDelete, "/v1/grants/{user}/{role}/{scope}", RouteKind::kCommand, true,
              [&ctx](const RouteRequest& req) { return Revoke(ctx, req); }});
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
