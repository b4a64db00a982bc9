// application/problem+json answers (RFC 9457). Messages are written for the client: no
// internal detail or stack traces.
#pragma once

#include "api/http.h"
#include "domain/error.h"
#include "eventstore/event_store.h"

#include <cstdint>
#include <string>
#include <vector>

namespace caseledger::api {

// `type` is a short slug appended to the project's problem base URI.
Response Problem(int status, std::string_view type, std::string_view title, std::string_view detail,
                 const std::vector<domain::FieldError>& errors = {});

// 400 with one field error.
Response BadField(std::string field, std::string message);

// Maps a domain error: invalid -> 400, not found -> 404, conflict -> 409, rule -> 422.
Response FromDomainError(const domain::Error& e);

// Maps a store error: version conflict -> 409 (with the current version), idempotency key
// reuse -> 422, claim taken -> 409, no space -> 507, refused/io -> 503 (both with
// Retry-After), corruption -> 500.
// A command whose If-Match names another version than the stream's (RFC 9110 §13.1.1):
// 412 with current_version and the current ETag; nothing is run.
Response PreconditionFailed(uint64_t current_version);
Response FromStoreError(const eventstore::StoreError& e);

}  // namespace caseledger::api
