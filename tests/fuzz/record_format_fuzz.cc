// The event store's record encoding (eventstore/record_format.h, FORMAT.md): what a
// stored value, a head or an idempotency record holds when the bytes on disk are not what
// the store wrote. Property: a record body that decodes re-encodes (the current layout) to
// bytes that decode to the same envelope.
#include "eventstore/record_format.h"
#include "tests/fuzz/fuzz_target.h"

CASELEDGER_FUZZ_TARGET(record_format) {
  namespace format = caseledger::eventstore::format;
  std::string_view bytes = caseledger::fuzz::AsText(data, size);
  (void)format::DecodeHead(bytes);
  if (auto position = format::DecodePositionRef(bytes)) {
    FUZZ_CHECK(format::DecodePositionRef(format::EncodePositionRef(*position)) == position);
  }
  if (auto rec = format::DecodeIdempotency(bytes)) {
    FUZZ_CHECK(format::DecodeIdempotency(format::EncodeIdempotency(*rec)).has_value());
  }
  if (auto split = format::Split(bytes)) {
    (void)split->Matches(caseledger::domain::Hash{});
    caseledger::domain::Envelope e;
    if (format::DecodeRecordBody(split->record_body, e)) {
      caseledger::domain::Envelope again;
      FUZZ_CHECK(format::DecodeRecordBody(format::EncodeRecordBody(e), again));
      // The current layout marks a non-empty personal part sealed; the rest must survive.
      again.personal_form = e.personal_form;
      FUZZ_CHECK(again == e);
    }
  }
  return 0;
}
