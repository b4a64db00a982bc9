// Errors of the domain: expected failures are values, never exceptions.
#pragma once

#include <boost/system/result.hpp>

#include <string>
#include <utility>
#include <vector>

namespace caseledger::domain {

enum class ErrorCode {
  kInvalidArgument,  // input does not have the right shape (HTTP 400)
  kNotFound,         // the aggregate or referenced object does not exist (404)
  kConflict,         // optimistic concurrency or uniqueness clash (409)
  kRuleViolation,    // well-formed, but the domain forbids it now (422)
};

// One problem with one input field; `field` is a JSON-pointer-like path ("tax_code",
// "personal.birth_date").
struct FieldError {
  std::string field;
  std::string message;
  bool operator==(const FieldError&) const = default;
};

struct Error {
  ErrorCode code = ErrorCode::kInvalidArgument;
  std::string message;
  std::vector<FieldError> fields;

  static Error Invalid(std::string field, std::string message) {
    Error e{ErrorCode::kInvalidArgument, message, {}};
    e.fields.push_back({std::move(field), std::move(message)});
    return e;
  }
  static Error Invalid(std::vector<FieldError> fields) {
    std::string message = fields.empty() ? "invalid input" : fields.front().message;
    return Error{ErrorCode::kInvalidArgument, std::move(message), std::move(fields)};
  }
  static Error NotFound(std::string message) { return {ErrorCode::kNotFound, std::move(message), {}}; }
  static Error Conflict(std::string message) { return {ErrorCode::kConflict, std::move(message), {}}; }
  static Error Rule(std::string message) { return {ErrorCode::kRuleViolation, std::move(message), {}}; }
};

// Thrown only when a caller calls value() on an error result: that is a bug, not an
// expected failure.
[[noreturn]] void throw_exception_from_error(const Error& e, const boost::source_location& loc);

template <class T>
using Result = boost::system::result<T, Error>;

}  // namespace caseledger::domain
