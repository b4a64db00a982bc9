// Reading the rows of a results:batch body (CSV or {"results": [...]}) in memory bounded by
// the row cap, not by the body: CSV is split by views into the body, JSON is read by a
// streaming (SAX) parser that keeps only the four fields of each row, so a 16 MB body of
// padding or of commas costs a pass over the bytes and never a copy per cell or row.
#pragma once

#include <boost/system/result.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace caseledger::api {

inline constexpr size_t kMaxBatchRows = 10'000;
// A field longer than this is not kept (no swab id, lab id or timestamp comes close); the
// row is answered with a field error instead.
inline constexpr size_t kMaxBatchFieldBytes = 128;

struct BatchRow {
  std::string swab_id, outcome, lab_id, reported_at;
  std::string oversized;  // the name of the first field above kMaxBatchFieldBytes, or ""
};

struct BatchRowsError {
  bool too_many_rows = false;  // more than kMaxBatchRows (413); else malformed (400)
  std::string detail;
};

using BatchRowsResult = boost::system::result<std::vector<BatchRow>, BatchRowsError>;

// CSV with a header naming the columns swab_id, outcome, lab_id, reported_at in any order
// (other columns ignored); no quoting, so a quote character is an error. Stops reading at
// the first row past kMaxBatchRows.
BatchRowsResult ParseBatchCsv(std::string_view body);

// {"results": [{"swab_id": ..., ...}, ...]} and nothing else at the top level; an element
// that is not an object, or a field that is not a string, reads as an empty field (a row
// error later, not a body error). Depth-limited and UTF-8-validated like every JSON body.
BatchRowsResult ParseBatchJson(std::string_view body);

// Thrown only when a caller calls value() on an error result (a bug); found by ADL.
[[noreturn]] void throw_exception_from_error(const BatchRowsError& e, const boost::source_location& loc);

}  // namespace caseledger::api
