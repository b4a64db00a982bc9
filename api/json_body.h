// Strict reading of JSON request bodies: depth-limited parse with UTF-8 validation, and
// typed field access that records field errors (wrong type, missing, unknown field)
// instead of throwing.
#pragma once

#include "domain/time.h"
#include "domain/validation.h"

#include <boost/json/object.hpp>
#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>

#include <optional>
#include <set>
#include <string>
#include <vector>
#include <string_view>

namespace caseledger::api {

inline constexpr int kMaxJsonDepth = 32;

// Parses `body` as one JSON object. nullopt with `error` set when it is not JSON, nests
// deeper than kMaxJsonDepth, holds invalid UTF-8, is not an object, or an object in it
// holds a key twice (the error names it: "key rows[2].id appears more than once").
// The object's memory comes from `storage` (the default resource unless given), which must
// outlive it.
std::optional<boost::json::object> ParseJsonObject(std::string_view body, std::string* error,
                                                   boost::json::storage_ptr storage = {});

// The path of the first key that an object in `json` holds twice ("a", "rows[2].id"), or
// nullopt when there is none (or `json` is not JSON). Boost.JSON keeps the last of them.
std::optional<std::string> FindDuplicateKey(std::string_view json);

class JsonFields {
 public:
  // `prefix` is prepended to field names in errors ("rows[3].").
  JsonFields(const boost::json::object& object, domain::FieldErrors& errors, std::string prefix = "");

  // Each returns nullopt when absent (recording "is required" if `required`) or of the
  // wrong type (recording the error).
  std::optional<std::string> String(std::string_view name, bool required = true);
  // String()'s text where the object holds it: good while the object is.
  std::optional<std::string_view> StringView(std::string_view name, bool required = true);
  std::optional<int64_t> Int(std::string_view name, bool required = true);
  std::optional<bool> Bool(std::string_view name, bool required = true);
  std::optional<domain::Date> Date(std::string_view name, bool required = true);
  std::optional<domain::Timestamp> Time(std::string_view name, bool required = true);
  const boost::json::value* Raw(std::string_view name, bool required = true);

  // Records an error for every member that no accessor asked for.
  void RejectUnknown();

 private:
  const boost::json::value* Find(std::string_view name, bool required);
  void Wrong(std::string_view name, std::string_view expected);

  const boost::json::object& object_;
  domain::FieldErrors& errors_;
  std::string prefix_;
  // Which members of object_ (by their index in it) an accessor asked for: a bit each,
  // without a set of names to build per object.
  void MarkSeen(size_t member);
  bool Seen(size_t member) const;
  uint64_t seen_ = 0;                 // members 0-63
  std::vector<bool> seen_beyond_;     // members 64 and after
};

}  // namespace caseledger::api
