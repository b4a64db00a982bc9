// Test support for the Decide tests (header only; not part of the library): whether a
// decision was rejected as a test expects.
#pragma once

#include "domain/decision.h"
#include "domain/error.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace caseledger::domain {

// The decision was rejected with `code` and, when `field` is given, names that field.
inline ::testing::AssertionResult Rejected(const Result<Decision>& r, ErrorCode code, std::string_view field = {}) {
  if (r) return ::testing::AssertionFailure() << "accepted with " << r->events.size() << " event(s)";
  if (r.error().code != code) {
    return ::testing::AssertionFailure() << "error code " << int(r.error().code) << ": " << r.error().message;
  }
  if (field.empty()) return ::testing::AssertionSuccess();
  std::string seen;
  for (const FieldError& f : r.error().fields) {
    if (f.field == field) return ::testing::AssertionSuccess();
    seen += " " + f.field;
  }
  return ::testing::AssertionFailure() << "no error for field '" << field << "'; fields:" << seen;
}

}  // namespace caseledger::domain
