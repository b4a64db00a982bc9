// Audit (docs/api.md): GET /v1/audit/chain answers the tip of the hash chain, so that an
// external party can record (position, hash) and later prove, with `caseledger verify` or
// by recomputing the chain from an export, that nothing at or before it changed.
#include "api/authz.h"
#include "api/route_helpers.h"
#include "api/routes.h"
#include "domain/event_json.h"

#include <boost/json.hpp>

namespace caseledger::api {

void AddAuditRoutes(Router& router, const ApiContext& ctx) {
  router.Add({Method::kGet, "/v1/audit/chain", RouteKind::kQuery, true, [&ctx](const RouteRequest& req) {
                if (!HoldsAny(req.principal, {domain::Role::kAuditor, domain::Role::kAdmin})) {
                  return Problem(403, "forbidden", "Forbidden", "only auditors and admins read the chain tip");
                }
                eventstore::ChainTip tip = ctx.store->Tip();
                boost::json::object body{{"position", tip.position},
                                         {"hash", domain::HexHash(tip.hash)},
                                         {"algorithm", "sha256"},
                                         {"chain", "hash(p) = SHA-256(hash(p-1) || BE64(p) || record_body(p)), hash(0) = 32 zero bytes"}};
                if (tip.position > 0) {
                  auto last = ctx.store->ReadLog(tip.position, 1);
                  if (!last) return FromStoreError(last.error());
                  if (!last->empty()) body["recorded_at"] = last->front().recorded_at.ToString();
                }
                return JsonRead(req.http, boost::json::serialize(body), "\"chain-" + std::to_string(tip.position) + "\"",
                                tip.position);
              }});
}

}  // namespace caseledger::api
