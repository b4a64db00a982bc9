#include "api/json_body.h"

#include <boost/json/parser.hpp>

namespace caseledger::api {

std::optional<boost::json::object> ParseJsonObject(std::string_view body, std::string* error) {
  boost::json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  options.allow_invalid_utf8 = false;
  boost::json::parser parser(boost::json::storage_ptr(), options);
  boost::system::error_code ec;
  parser.write(body.data(), body.size(), ec);
  if (ec) {
    if (ec == boost::json::error::too_deep) {
      *error = "JSON nests deeper than " + std::to_string(kMaxJsonDepth) + " levels";
    } else if (ec == boost::json::error::syntax && !body.empty()) {
      *error = "body is not valid JSON (or not valid UTF-8)";
    } else {
      *error = body.empty() ? "body is empty; a JSON object is required"
                            : "body is not valid JSON: " + ec.message();
    }
    return std::nullopt;
  }
  boost::json::value v = parser.release();
  if (!v.is_object()) {
    *error = "body must be a JSON object";
    return std::nullopt;
  }
  return std::move(v.as_object());
}

JsonFields::JsonFields(const boost::json::object& object, domain::FieldErrors& errors,
                       std::string prefix)
    : object_(object), errors_(errors), prefix_(std::move(prefix)) {}

const boost::json::value* JsonFields::Find(std::string_view name, bool required) {
  seen_.emplace(name);
  const boost::json::value* v = object_.if_contains(name);
  if (v == nullptr || v->is_null()) {
    if (required) errors_.Add(prefix_ + std::string(name), "is required");
    return nullptr;
  }
  return v;
}

void JsonFields::Wrong(std::string_view name, std::string_view expected) {
  errors_.Add(prefix_ + std::string(name), "must be " + std::string(expected));
}

std::optional<std::string> JsonFields::String(std::string_view name, bool required) {
  const auto* v = Find(name, required);
  if (!v) return std::nullopt;
  if (!v->is_string()) {
    Wrong(name, "a string");
    return std::nullopt;
  }
  return std::string(v->as_string());
}

std::optional<int64_t> JsonFields::Int(std::string_view name, bool required) {
  const auto* v = Find(name, required);
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64() && v->as_uint64() <= uint64_t(INT64_MAX)) return int64_t(v->as_uint64());
  Wrong(name, "an integer");
  return std::nullopt;
}

std::optional<bool> JsonFields::Bool(std::string_view name, bool required) {
  const auto* v = Find(name, required);
  if (!v) return std::nullopt;
  if (!v->is_bool()) {
    Wrong(name, "true or false");
    return std::nullopt;
  }
  return v->as_bool();
}

std::optional<domain::Date> JsonFields::Date(std::string_view name, bool required) {
  auto s = String(name, required);
  if (!s) return std::nullopt;
  auto d = domain::Date::Parse(*s);
  if (!d) Wrong(name, "a date YYYY-MM-DD");
  return d;
}

std::optional<domain::Timestamp> JsonFields::Time(std::string_view name, bool required) {
  auto s = String(name, required);
  if (!s) return std::nullopt;
  auto t = domain::Timestamp::Parse(*s);
  if (!t) Wrong(name, "an RFC 3339 date-time with offset, e.g. 2020-10-12T08:30:00Z");
  return t;
}

const boost::json::value* JsonFields::Raw(std::string_view name, bool required) {
  return Find(name, required);
}

void JsonFields::RejectUnknown() {
  for (const auto& member : object_) {
    if (!seen_.count(std::string_view(member.key()))) {
      errors_.Add(prefix_ + std::string(member.key()), "is not a known field");
    }
  }
}

}  // namespace caseledger::api
