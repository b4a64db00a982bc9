// POST /v1/results:batch: a lab uploads many results at once, as CSV
// (header swab_id,outcome,lab_id,reported_at) or JSON ({"results": [{...}, ...]}). Each row
// is its own command with its own outcome; a bad row never rejects the good ones.
// At most kMaxBatchRows (api/batch_rows.h) rows.
#pragma once

#include "api/api_context.h"
#include "api/http.h"
#include "api/router.h"

namespace caseledger::api {

// The route's body limit: 10,000 rows of CSV or JSON fit with room to spare.
inline constexpr size_t kBatchBodyLimit = 16 * 1024 * 1024;

// Whether the caller may report results at all (a lab or an operator grant): decided on the
// token alone, so the server can refuse a batch before reading its body.
bool MayUploadResults(const Principal& principal);

// Parses the rows (memory bounded by the row cap, see batch_rows.h) and runs each as its
// own RecordResult; 403 before the body is looked at for a caller who may not upload.
Response RunResultsBatch(const ApiContext& ctx, const RouteRequest& req);

}  // namespace caseledger::api
