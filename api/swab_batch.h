// POST /v1/results:batch: a lab uploads many results at once, as CSV
// (header swab_id,outcome,lab_id,reported_at) or JSON ({"results": [{...}, ...]}). Each row
// is its own command with its own outcome; a bad row never rejects the good ones.
#pragma once

#include "api/api_context.h"
#include "api/http.h"
#include "api/router.h"

namespace caseledger::api {

inline constexpr size_t kMaxBatchRows = 10'000;

Response RunResultsBatch(const ApiContext& ctx, const RouteRequest& req);

}  // namespace caseledger::api
