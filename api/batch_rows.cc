#include "api/batch_rows.h"

#include "api/json_body.h"
#include "api/json_sax.h"

#include <boost/json/basic_parser_impl.hpp>

#include <algorithm>
#include <array>
#include <stdexcept>

namespace caseledger::api {
namespace {

constexpr std::array<std::string_view, 4> kFields = {"swab_id", "outcome", "lab_id", "reported_at"};

std::string* FieldOf(BatchRow& row, size_t k) {
  switch (k) {
    case 0: return &row.swab_id;
    case 1: return &row.outcome;
    case 2: return &row.lab_id;
    default: return &row.reported_at;
  }
}

// Appends `part` to field `k` of `row` unless that would pass the cap; the first field
// that does is named in `oversized` and kept empty, so no padding is ever held.
void AppendField(BatchRow& row, size_t k, std::string_view part) {
  std::string* field = FieldOf(row, k);
  if (!row.oversized.empty() && row.oversized == kFields[k]) return;
  if (field->size() + part.size() > kMaxBatchFieldBytes) {
    if (row.oversized.empty()) row.oversized = std::string(kFields[k]);
    field->clear();
    return;
  }
  field->append(part);
}

BatchRowsError Malformed(std::string detail) { return {false, std::move(detail)}; }
BatchRowsError TooMany() {
  return {true, "a batch holds at most " + std::to_string(kMaxBatchRows) + " rows"};
}

// The JSON rows, collected from parser events. Depth counts the open containers: the
// top object is at 0 (before it opens), the results array at 1, a row object at 2, and a
// row's own members at 3; anything deeper is skipped without being kept.
class RowCollector : public SaxHandlerLimits {
 public:
  std::vector<BatchRow> rows;
  std::string failure;  // why the body is refused, when it is
  bool too_many = false;
  bool saw_results = false;

  bool on_document_begin(boost::system::error_code&) { return true; }
  bool on_document_end(boost::system::error_code& ec) {
    return saw_results || Fail(ec, kShape);
  }
  bool on_object_begin(boost::system::error_code& ec) {
    if (depth_ == 3) field_ = -1;  // a member that is an object is not a string: empty
    if (depth_ == 1) return Fail(ec, kShape);  // "results" must be an array
    if (depth_ == 2 && !StartRow(ec)) return false;
    ++depth_;
    return true;
  }
  bool on_object_end(size_t, boost::system::error_code&) {
    --depth_;
    return true;
  }
  bool on_array_begin(boost::system::error_code& ec) {
    if (depth_ == 3) field_ = -1;
    if (depth_ == 0) return Fail(ec, kShape);
    if (depth_ == 1) {
      if (saw_results) return Fail(ec, kShape);  // "results" given twice
      saw_results = true;
    }
    if (depth_ == 2 && !StartRow(ec)) return false;  // an array as a row: an empty row
    ++depth_;
    return true;
  }
  bool on_array_end(size_t, boost::system::error_code&) {
    --depth_;
    return true;
  }
  bool on_key_part(std::string_view s, size_t, boost::system::error_code& ec) {
    return Key(s, false, ec);
  }
  bool on_key(std::string_view s, size_t, boost::system::error_code& ec) { return Key(s, true, ec); }
  bool on_string_part(std::string_view s, size_t, boost::system::error_code& ec) {
    return String(s, false, ec);
  }
  bool on_string(std::string_view s, size_t, boost::system::error_code& ec) { return String(s, true, ec); }
  bool on_number_part(std::string_view, boost::system::error_code&) { return true; }
  bool on_int64(int64_t, std::string_view, boost::system::error_code& ec) { return Scalar(ec); }
  bool on_uint64(uint64_t, std::string_view, boost::system::error_code& ec) { return Scalar(ec); }
  bool on_double(double, std::string_view, boost::system::error_code& ec) { return Scalar(ec); }
  bool on_bool(bool, boost::system::error_code& ec) { return Scalar(ec); }
  bool on_null(boost::system::error_code& ec) { return Scalar(ec); }
  bool on_comment_part(std::string_view, boost::system::error_code&) { return true; }
  bool on_comment(std::string_view, boost::system::error_code&) { return true; }

 private:
  static constexpr char kShape[] = "body must be {\"results\": [...]}";

  bool Fail(boost::system::error_code& ec, std::string why) {
    failure = std::move(why);
    ec = std::make_error_code(std::errc::invalid_argument);
    return false;
  }
  bool StartRow(boost::system::error_code& ec) {
    if (rows.size() == kMaxBatchRows) {
      too_many = true;
      return Fail(ec, TooMany().detail);
    }
    rows.emplace_back();
    field_ = -1;
    seen_ = 0;
    return true;
  }
  // Keys matter at the top (only "results") and in a row (the four fields); a key is
  // compared once complete, and never kept beyond the longest name it could be.
  bool Key(std::string_view part, bool last, boost::system::error_code& ec) {
    if (depth_ != 1 && depth_ != 3) return true;
    if (key_.size() + part.size() <= 16) {
      key_.append(part);
    } else {
      key_ = "~";  // longer than any name we know
    }
    if (!last) return true;
    std::string key = std::move(key_);
    key_.clear();
    field_ = -1;
    if (depth_ == 1) return key == "results" || Fail(ec, kShape);
    for (size_t k = 0; k < kFields.size(); ++k) {
      if (key != kFields[k]) continue;
      // A repeated member is refused, as in every JSON body (json_body.h).
      if (seen_ & (1u << k)) {
        return Fail(ec, "key \"results[" + std::to_string(rows.size() - 1) + "]." + std::string(kFields[k]) +
                            "\" appears more than once");
      }
      seen_ |= 1u << k;
      field_ = static_cast<int>(k);
    }
    return true;
  }
  bool String(std::string_view part, bool last, boost::system::error_code& ec) {
    if (depth_ == 1) return Fail(ec, kShape);
    if (depth_ == 2) {  // a string element is one (empty) row, however many parts it comes in
      bool ok = in_string_row_ || StartRow(ec);
      in_string_row_ = !last;
      return ok;
    }
    if (depth_ == 3 && field_ >= 0) AppendField(rows.back(), static_cast<size_t>(field_), part);
    if (last) field_ = -1;
    return true;
  }
  bool Scalar(boost::system::error_code& ec) {
    field_ = -1;
    if (depth_ == 1) return Fail(ec, kShape);
    if (depth_ == 2) return StartRow(ec);
    return true;
  }

  int depth_ = 0;
  int field_ = -1;  // index into kFields of the member being read, or -1
  unsigned seen_ = 0;  // bit k: the row's kFields[k] was read
  std::string key_;
  bool in_string_row_ = false;
};

}  // namespace

void throw_exception_from_error(const BatchRowsError& e, const boost::source_location& loc) {
  throw std::logic_error(std::string("value() on an error result at ") + loc.file_name() + ":" +
                         std::to_string(loc.line()) + ": " + e.detail);
}

BatchRowsResult ParseBatchCsv(std::string_view body) {
  std::vector<BatchRow> rows;
  std::array<size_t, 4> col;
  col.fill(size_t(-1));
  size_t last_column = 0;
  bool header = true;
  while (!body.empty()) {
    size_t eol = body.find('\n');
    std::string_view line = body.substr(0, eol);
    body.remove_prefix(eol == std::string_view::npos ? body.size() : eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (line.find('"') != std::string_view::npos) return Malformed("quoted CSV fields are not accepted");
    if (!header && rows.size() == kMaxBatchRows) return TooMany();
    BatchRow row;
    // Cells are visited in place; only the four named columns are looked at.
    size_t index = 0;
    for (size_t start = 0;; ++index) {
      size_t comma = line.find(',', start);
      std::string_view cell = line.substr(start, comma == std::string_view::npos ? line.npos : comma - start);
      for (size_t k = 0; k < kFields.size(); ++k) {
        if (header && cell == kFields[k]) col[k] = index;
        if (!header && col[k] == index) AppendField(row, k, cell);
      }
      // A row's cells past the last named column are never looked at.
      if (comma == std::string_view::npos || (!header && index >= last_column)) break;
      start = comma + 1;
    }
    if (header) {
      for (size_t k = 0; k < kFields.size(); ++k) {
        if (col[k] == size_t(-1)) return Malformed("CSV header lacks column " + std::string(kFields[k]));
      }
      last_column = *std::max_element(col.begin(), col.end());
      header = false;
      continue;
    }
    rows.push_back(std::move(row));
  }
  if (header) return Malformed("CSV body has no header line");
  return rows;
}

BatchRowsResult ParseBatchJson(std::string_view body) {
  boost::json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  boost::json::basic_parser<RowCollector> parser(options);
  boost::system::error_code ec;
  size_t used = parser.write_some(false, body.data(), body.size(), ec);
  RowCollector& rows = parser.handler();
  if (rows.too_many) return TooMany();
  if (!rows.failure.empty()) return Malformed(rows.failure);
  if (ec) return Malformed("body is not valid JSON (" + ec.message() + " at byte " + std::to_string(used) + ")");
  return std::move(rows.rows);
}

}  // namespace caseledger::api
