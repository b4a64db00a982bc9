// Swabs: request, collection, lab results and corrections, and the lab batch upload.
#include "api/command_bodies.h"
#include "api/command_service.h"
#include "api/route_helpers.h"
#include "api/routes.h"
#include "api/swab_batch.h"

namespace caseledger::api {

using namespace domain;

namespace {

// A POST on /v1/swabs/{swab}/...: the swab id names the person through its claim.
template <class Command>
void AddSwabCommand(Router& router, const ApiContext& ctx, std::string pattern,
                    CommandReader<Command> read) {
  router.Add({Method::kPost, std::move(pattern), RouteKind::kDeferredCommand, true,
              [&ctx, read](const RouteRequest& req) {
                Command command;
                if (auto bad = ReadCommand<Command>(req.http, command, read)) return *bad;
                command.swab_id = req.params.at("swab");
                if constexpr (std::is_same_v<Command, CollectSwab>) {
                  // A laboratory collects in its own name: its lab when it holds just one.
                  auto labs = req.principal.grants.Scopes(Role::kLab);
                  if (command.lab_id.empty() && labs.size() == 1) command.lab_id = labs.front();
                }
                // The path parameter itself, which outlives the deferred answer: its 404s
                // name the swab from it.
                const std::string& swab_id = req.params.at("swab");
                return RunSwabCommand(ctx, req, swab_id, PersonCommand{std::move(command)});
              }});
}

}  // namespace

void AddSwabRoutes(Router& router, const ApiContext& ctx) {
  AddPersonCommand<RequestSwab>(router, ctx, "/v1/people/{id}/swabs", ReadRequestSwab);
  AddSwabCommand<CollectSwab>(router, ctx, "/v1/swabs/{swab}/collection", ReadCollectSwab);
  AddSwabCommand<HandOverSample>(router, ctx, "/v1/swabs/{swab}/handover", ReadHandOverSample);
  AddSwabCommand<RecordResult>(router, ctx, "/v1/swabs/{swab}/result", ReadRecordResult);
  AddSwabCommand<CorrectResult>(router, ctx, "/v1/swabs/{swab}/correction", ReadCorrectResult);
  // A batch reads up to 16 MiB, so who may send one is settled on the headers first.
  router.Add({Method::kPost, "/v1/results:batch", RouteKind::kCommand, true,
              [&ctx](const RouteRequest& req) { return RunResultsBatch(ctx, req); }, kBatchBodyLimit,
              [](const Principal& p) -> std::optional<Response> {
                if (MayUploadResults(p)) return std::nullopt;
                return Problem(403, "forbidden", "Forbidden", "your role may not report results");
              }});
}

}  // namespace caseledger::api
