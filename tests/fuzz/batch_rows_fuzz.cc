// The body of POST /v1/results:batch (api/batch_rows.h), as CSV and as JSON: rows bounded
// by kMaxBatchRows, fields by kMaxBatchFieldBytes.
#include "api/batch_rows.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

void CheckRows(const caseledger::api::BatchRowsResult& rows) {
  namespace api = caseledger::api;
  if (!rows) {
    FUZZ_CHECK(!rows.error().detail.empty());
    return;
  }
  FUZZ_CHECK(rows->size() <= api::kMaxBatchRows);
  for (const auto& row : *rows) {
    for (const std::string* f : {&row.swab_id, &row.outcome, &row.lab_id, &row.reported_at}) {
      FUZZ_CHECK(f->size() <= api::kMaxBatchFieldBytes);
    }
  }
}

}  // namespace

CASELEDGER_FUZZ_TARGET(batch_rows) {
  std::string_view body = caseledger::fuzz::AsText(data, size);
  CheckRows(caseledger::api::ParseBatchCsv(body));
  CheckRows(caseledger::api::ParseBatchJson(body));
  return 0;
}
