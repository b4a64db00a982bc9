#include "api/problem.h"

#include <boost/json.hpp>

namespace caseledger::api {

Response Problem(int status, std::string_view type, std::string_view title, std::string_view detail,
                 const std::vector<domain::FieldError>& errors) {
  boost::json::object o;
  o["type"] = "https://caseledger.example/problems/" + std::string(type);
  o["title"] = title;
  o["status"] = status;
  o["detail"] = detail;
  if (!errors.empty()) {
    boost::json::array list;
    for (const auto& e : errors) list.push_back({{"field", e.field}, {"message", e.message}});
    o["errors"] = std::move(list);
  }
  Response r;
  r.status = status;
  r.content_type = "application/problem+json";
  r.body = boost::json::serialize(o);
  return r;
}

Response BadField(std::string field, std::string message) {
  std::vector<domain::FieldError> errors{{std::move(field), message}};
  return Problem(400, "invalid-input", "Invalid input", message, errors);
}

Response FromDomainError(const domain::Error& e) {
  switch (e.code) {
    case domain::ErrorCode::kInvalidArgument: {
      if (e.fields.empty()) return Problem(400, "invalid-input", "Invalid input", e.message);
      std::string detail = e.fields.size() == 1 ? "invalid field: " : "invalid fields: ";
      for (size_t i = 0; i < e.fields.size(); ++i) {
        detail += (i ? ", " : "") + (e.fields[i].field.empty() ? std::string("(body)") : e.fields[i].field);
      }
      if (e.fields.size() == 1) detail += " " + e.fields[0].message;
      return Problem(400, "invalid-input", "Invalid input", detail, e.fields);
    }
    case domain::ErrorCode::kNotFound:
      return Problem(404, "not-found", "Not found", e.message);
    case domain::ErrorCode::kConflict:
      return Problem(409, "conflict", "Conflict", e.message);
    case domain::ErrorCode::kRuleViolation:
      return Problem(422, "rule-violation", "Not allowed by the domain rules", e.message, e.fields);
  }
  return Problem(500, "internal", "Internal error", "unexpected error");
}

Response PreconditionFailed(uint64_t current_version) {
  Response r = Problem(412, "precondition-failed", "Precondition failed",
                       "If-Match names another version: the resource is at version " +
                           std::to_string(current_version));
  auto body = boost::json::parse(r.body).as_object();
  body["current_version"] = current_version;
  r.body = boost::json::serialize(body);
  r.Set("ETag", "\"" + std::to_string(current_version) + "\"");
  return r;
}

Response FromStoreError(const eventstore::StoreError& e) {
  using eventstore::StoreErrorCode;
  switch (e.code) {
    case StoreErrorCode::kWrongExpectedVersion: {
      Response r = Problem(409, "version-conflict", "Version conflict",
                           "the resource is at version " + std::to_string(e.current_version));
      auto body = boost::json::parse(r.body).as_object();
      body["current_version"] = e.current_version;
      r.body = boost::json::serialize(body);
      r.Set("ETag", "\"" + std::to_string(e.current_version) + "\"");
      return r;
    }
    case StoreErrorCode::kIdempotencyKeyReused:
      return Problem(422, "idempotency-key-reused", "Idempotency key reused",
                     "this Idempotency-Key was used for a different request");
    case StoreErrorCode::kClaimTaken: {
      std::string what = e.claim.substr(0, e.claim.find('/'));
      return Problem(409, "duplicate", "Already exists",
                     what == "swab" ? "swab id is already registered"
                                    : "a person with this tax code is already registered");
    }
    case StoreErrorCode::kInvalidArgument:
      return Problem(400, "invalid-input", "Invalid input", e.message);
    case StoreErrorCode::kNotFound:
      return Problem(404, "not-found", "Not found", "not found");
    case StoreErrorCode::kNoSpace: {
      // RFC 4918's 507: the request may succeed once space is freed; reads go on meanwhile.
      Response r = Problem(507, "insufficient-storage", "Insufficient storage",
                           "the server's data volume is full; nothing was recorded, retry later");
      r.Set("Retry-After", "30");
      return r;
    }
    case StoreErrorCode::kWritesRefused:
    case StoreErrorCode::kIo: {
      Response r = Problem(503, "store-unavailable", "Store unavailable",
                           "the event store cannot accept writes; retry later");
      r.Set("Retry-After", "5");
      return r;
    }
    case StoreErrorCode::kCorruption:
      break;
  }
  return Problem(500, "internal", "Internal error", "the server could not complete the request");
}

}  // namespace caseledger::api
