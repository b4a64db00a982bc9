#include "api/route_helpers.h"

#include <charconv>

namespace caseledger::api {

Response MalformedBody(std::string_view body, const std::string& error) {
  std::vector<domain::FieldError> errors;
  if (auto key = FindDuplicateKey(body)) errors.push_back({std::move(*key), "appears more than once"});
  return Problem(400, "malformed-body", "Malformed body", error, errors);
}

Response JsonRead(const Request& req, std::string body, const std::string& etag, uint64_t position) {
  Response r;
  r.Set("ETag", etag);
  r.Set("X-Position", std::to_string(position));
  r.Set("Cache-Control", "no-cache");
  std::string_view inm = req.Header("if-none-match");
  if (!inm.empty() && (inm == etag || inm == "*")) {
    r.status = 304;
    r.content_type.clear();
    return r;
  }
  r.body = std::move(body);
  return r;
}

std::optional<Response> ReadMinPosition(const Request& req, uint64_t& min_position) {
  min_position = 0;
  auto v = req.Query("min_position");
  if (!v) return std::nullopt;
  auto r = std::from_chars(v->data(), v->data() + v->size(), min_position);
  if (r.ec != std::errc{} || r.ptr != v->data() + v->size()) {
    return BadField("min_position", "must be a non-negative integer");
  }
  return std::nullopt;
}

}  // namespace caseledger::api
