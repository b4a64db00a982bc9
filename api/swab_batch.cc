#include "api/swab_batch.h"

#include "api/authz.h"
#include "api/batch_rows.h"
#include "api/command_service.h"
#include "api/problem.h"
#include "domain/validation.h"

#include <boost/json.hpp>

namespace caseledger::api {
namespace {

using namespace domain;

boost::json::object RowProblem(size_t index, const Response& res) {
  boost::json::object o;
  o["row"] = index;
  o["status"] = res.status;
  auto problem = boost::json::parse(res.body).as_object();
  o["detail"] = problem["detail"];
  if (problem.contains("errors")) o["errors"] = problem["errors"];
  return o;
}

}  // namespace

bool MayUploadResults(const Principal& principal) {
  return MayIssue(principal, PersonCommand{RecordResult{}});
}

Response RunResultsBatch(const ApiContext& ctx, const RouteRequest& req) {
  // The role gate comes before the body is looked at: a caller who may not report results
  // costs no parsing (the server may already have refused it on the headers alone).
  if (!MayUploadResults(req.principal)) {
    return Problem(403, "forbidden", "Forbidden", "your role may not report results");
  }
  std::string_view type = req.http.Header("content-type");
  BatchRowsResult rows = type.starts_with("text/csv") ? ParseBatchCsv(req.http.body) : ParseBatchJson(req.http.body);
  if (!rows) {
    if (rows.error().too_many_rows) return Problem(413, "too-many-rows", "Too many rows", rows.error().detail);
    return Problem(400, "malformed-body", "Malformed body", rows.error().detail);
  }
  const std::string_view key = req.http.Header("idempotency-key");
  boost::json::array outcomes;
  size_t accepted = 0;
  for (size_t i = 0; i < rows->size(); ++i) {
    const BatchRow& row = (*rows)[i];
    FieldErrors errors;
    RecordResult cmd;
    cmd.swab_id = row.swab_id;
    cmd.lab_id = row.lab_id;
    if (!row.oversized.empty()) errors.Add(row.oversized, "is longer than " + std::to_string(kMaxBatchFieldBytes) + " bytes");
    if (row.swab_id.empty() && row.oversized != "swab_id") errors.Add("swab_id", "is required");
    auto outcome = ParseOutcome(row.outcome);
    if (!outcome) errors.Add("outcome", "must be one of positive, negative, inconclusive");
    auto at = Timestamp::Parse(row.reported_at);
    if (!at) errors.Add("reported_at", "must be an RFC 3339 date-time with offset");
    Response res;
    if (!errors.empty()) {
      res = FromDomainError(errors.ToError());
    } else {
      cmd.outcome = *outcome;
      cmd.reported_at = *at;
      // Each row is its own small request (never a copy of the batch's, whose body may be
      // 16 MB): idempotent on its own, so a re-sent batch answers the rows as before.
      Request row_http;
      row_http.method = req.http.method;
      row_http.body = row.swab_id + "," + row.outcome + "," + row.lab_id + "," + row.reported_at;
      row_http.path = "/v1/swabs/" + row.swab_id + "/result";
      if (!key.empty()) row_http.headers.Add("idempotency-key", std::string(key) + "#" + std::to_string(i));
      RouteRequest row_req{row_http, {}, req.principal};
      // The same 404 for an unknown swab and one outside the caller's scope (no oracle).
      // One row after the other, each answered before the next starts (a batch is one
      // caller's work; its rows share group commits with everyone else's commands).
      res = AwaitAnswer(RunSwabCommand(ctx, row_req, cmd.swab_id, PersonCommand{cmd}));
    }
    if (res.status == 201) {
      boost::json::object o = boost::json::parse(res.body).as_object();
      o["row"] = i;
      o["status"] = 201;
      outcomes.push_back(std::move(o));
      ++accepted;
    } else {
      outcomes.push_back(RowProblem(i, res));
    }
  }
  boost::json::object body;
  body["accepted"] = accepted;
  body["rejected"] = rows->size() - accepted;
  body["results"] = std::move(outcomes);
  Response r;
  r.status = 200;
  r.body = boost::json::serialize(body);
  return r;
}

}  // namespace caseledger::api
