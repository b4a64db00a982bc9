#include "api/route_helpers.h"

#include <charconv>

namespace caseledger::api {

Response MalformedBody(std::string_view body, const std::string& error) {
  std::vector<domain::FieldError> errors;
  if (auto key = FindDuplicateKey(body)) errors.push_back({std::move(*key), "appears more than once"});
  return Problem(400, "malformed-body", "Malformed body", error, errors);
}

namespace {

std::string_view Opaque(std::string_view tag) {
  if (tag.starts_with("W/")) tag.remove_prefix(2);
  return tag;
}

}  // namespace

// If-None-Match compares weakly (RFC 9110 §13.1.2): a gzipped answer's W/"x" matches "x".
bool WeakMatch(std::string_view if_none_match, std::string_view etag) {
  if (if_none_match.empty()) return false;
  if (if_none_match == "*") return true;
  size_t at = 0;
  while (at <= if_none_match.size()) {
    size_t comma = if_none_match.find(',', at);
    std::string_view one = if_none_match.substr(at, comma == std::string_view::npos ? std::string_view::npos : comma - at);
    while (!one.empty() && one.front() == ' ') one.remove_prefix(1);
    while (!one.empty() && one.back() == ' ') one.remove_suffix(1);
    if (!one.empty() && Opaque(one) == Opaque(etag)) return true;
    if (comma == std::string_view::npos) break;
    at = comma + 1;
  }
  return false;
}

namespace {

// A read's answer but its body: ETag, X-Position, Cache-Control; 304 (no content type) when
// If-None-Match matches the tag.
Response ReadHead(const Request& req, std::string etag, uint64_t position) {
  Response r;
  const bool not_modified = WeakMatch(req.Header("if-none-match"), etag);
  r.headers.reserve(3);  // one allocation, not three
  r.Set("ETag", std::move(etag));
  r.Set("X-Position", std::to_string(position));
  r.Set("Cache-Control", "no-cache");
  if (not_modified) {
    r.status = 304;
    r.content_type = {};
  }
  return r;
}

}  // namespace

Response JsonRead(const Request& req, std::string body, std::string etag, uint64_t position) {
  Response r = ReadHead(req, std::move(etag), position);
  if (r.status != 304) r.body = std::move(body);
  return r;
}

Response JsonRead(const Request& req, std::shared_ptr<const std::string> body, std::string etag, uint64_t position) {
  Response r = ReadHead(req, std::move(etag), position);
  if (r.status != 304) r.kept_body = std::move(body);
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
