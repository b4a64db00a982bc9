// Whether the server can write now, for /readyz and /metrics: the store's refusal (no
// space, or a failed write that needs a restart), the access log's (reads of personal data
// are refused meanwhile) and the views' pause below the free-space floor.
#pragma once

#include "api/api_context.h"

#include <cstdint>
#include <string>

namespace caseledger::api {

class HttpMetrics;

// `"writes":{...}` for /readyz: accepted, and when not, the problem slug of the answers
// (insufficient-storage or store-unavailable) and why; then the access log's and the
// views' state when either is held up.
std::string StorageStatusJson(const ApiContext& ctx);
// True when the store accepts appends and the access log records (the views may lag).
bool StorageAcceptsWrites(const ApiContext& ctx);

// caseledger_store_writes_refused{reason}, caseledger_access_log_writes_refused,
// caseledger_views_paused_no_space, caseledger_data_free_bytes and
// caseledger_data_min_free_bytes.
void AddStorageGauges(HttpMetrics& metrics, const ApiContext& ctx, const std::string& data_dir,
                      uint64_t min_free_bytes);

}  // namespace caseledger::api
