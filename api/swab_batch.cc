#include "api/swab_batch.h"

#include "api/command_service.h"
#include "api/json_body.h"
#include "api/problem.h"

#include <boost/json.hpp>

#include <sstream>

namespace caseledger::api {
namespace {

using namespace domain;

struct Row {
  std::string swab_id, outcome, lab_id, reported_at;
};

// CSV with a header naming the four columns in any order; no quoting is needed for these
// fields, so a quote character is an error.
std::optional<std::vector<Row>> ParseCsv(const std::string& body, std::string* error) {
  std::vector<Row> rows;
  std::istringstream in(body);
  std::string line;
  std::vector<int> col(4, -1);
  bool header = true;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (line.find('"') != std::string::npos) {
      *error = "quoted CSV fields are not accepted";
      return std::nullopt;
    }
    std::vector<std::string> cells;
    std::stringstream ls(line);
    for (std::string cell; std::getline(ls, cell, ',');) cells.push_back(cell);
    if (header) {
      const char* names[] = {"swab_id", "outcome", "lab_id", "reported_at"};
      for (size_t i = 0; i < cells.size(); ++i) {
        for (int k = 0; k < 4; ++k) {
          if (cells[i] == names[k]) col[k] = static_cast<int>(i);
        }
      }
      for (int k = 0; k < 4; ++k) {
        if (col[k] < 0) {
          *error = std::string("CSV header lacks column ") + names[k];
          return std::nullopt;
        }
      }
      header = false;
      continue;
    }
    auto at = [&](int k) { return col[k] < int(cells.size()) ? cells[col[k]] : std::string(); };
    rows.push_back({at(0), at(1), at(2), at(3)});
    if (rows.size() > kMaxBatchRows) break;
  }
  if (header) {
    *error = "CSV body has no header line";
    return std::nullopt;
  }
  return rows;
}

std::optional<std::vector<Row>> ParseJson(const std::string& body, std::string* error) {
  auto object = ParseJsonObject(body, error);
  if (!object) return std::nullopt;
  const auto* results = object->if_contains("results");
  if (!results || !results->is_array() || object->size() != 1) {
    *error = "body must be {\"results\": [...]}";
    return std::nullopt;
  }
  std::vector<Row> rows;
  for (const auto& v : results->as_array()) {
    Row r;
    if (v.is_object()) {
      auto get = [&](const char* k) {
        const auto* f = v.as_object().if_contains(k);
        return f && f->is_string() ? std::string(f->as_string()) : std::string();
      };
      r = {get("swab_id"), get("outcome"), get("lab_id"), get("reported_at")};
    }
    rows.push_back(std::move(r));
    if (rows.size() > kMaxBatchRows) break;
  }
  return rows;
}

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

Response RunResultsBatch(const ApiContext& ctx, const RouteRequest& req) {
  std::string error;
  std::string_view type = req.http.Header("content-type");
  std::optional<std::vector<Row>> rows =
      type.starts_with("text/csv") ? ParseCsv(req.http.body, &error) : ParseJson(req.http.body, &error);
  if (!rows) return Problem(400, "malformed-body", "Malformed body", error);
  if (rows->size() > kMaxBatchRows) {
    return Problem(413, "too-many-rows", "Too many rows",
                   "a batch holds at most " + std::to_string(kMaxBatchRows) + " rows");
  }
  boost::json::array outcomes;
  size_t accepted = 0;
  for (size_t i = 0; i < rows->size(); ++i) {
    const Row& row = (*rows)[i];
    FieldErrors errors;
    RecordResult cmd;
    cmd.swab_id = row.swab_id;
    cmd.lab_id = row.lab_id;
    if (row.swab_id.empty()) errors.Add("swab_id", "is required");
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
      // Each row is idempotent on its own: a re-sent batch answers the rows as before.
      Request row_http = req.http;
      row_http.body = row.swab_id + "," + row.outcome + "," + row.lab_id + "," + row.reported_at;
      row_http.path = "/v1/swabs/" + row.swab_id + "/result";
      row_http.headers.clear();
      if (std::string_view key = req.http.Header("idempotency-key"); !key.empty()) {
        row_http.headers.emplace_back("idempotency-key", std::string(key) + "#" + std::to_string(i));
      }
      RouteRequest row_req{row_http, {}, req.principal};
      // The same 404 for an unknown swab and one outside the caller's scope (no oracle).
      res = RunSwabCommand(ctx, row_req, cmd.swab_id, PersonCommand{cmd});
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
