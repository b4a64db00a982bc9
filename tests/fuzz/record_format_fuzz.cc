// The event store's record encoding (eventstore/record_format.h, FORMAT.md): what a
// stored value, a head or an idempotency record holds when the bytes on disk are not what
// the store wrote. Property: a record body that decodes re-encodes (layout 2) to bytes that
// decode to the same envelope.
#include "eventstore/record_format.h"
#include "tests/fuzz/fuzz_target.h"

CASELEDGER_FUZZ_TARGET(record_format) {
  namespace format = caseledger::eventstore::format;
  std::string_view bytes = caseledger::fuzz::AsText(data, size);
  (void)format::DecodeHead(bytes);
  if (auto rec = format::DecodeIdempotency(bytes)) {
    FUZZ_CHECK(format::DecodeIdempotency(format::EncodeIdempotency(*rec)).has_value());
  }
  if (auto split = format::Split(bytes)) {
    caseledger::domain::Envelope e;
    if (format::DecodeRecordBody(split->record_body, e)) {
      caseledger::domain::Envelope again;
      FUZZ_CHECK(format::DecodeRecordBody(format::EncodeRecordBody(e), again));
      // Layout 2 marks a non-empty personal part sealed; everything else must survive.
      again.personal_form = e.personal_form;
      FUZZ_CHECK(again == e);
    }
  }
  return 0;
}
