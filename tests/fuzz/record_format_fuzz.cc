// The event store's record encoding (eventstore/record_format.h, FORMAT.md): what a
// stored value, a head or an idempotency record holds when the bytes on disk are not what
// the store wrote. Properties: a record body that decodes re-encodes (the current layout) to
// bytes that decode to the same envelope; the views' decode (EnvelopeFields::kViews)
// accepts the same bodies and gives the same envelope less the fields it leaves empty.
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
    const bool decodes = format::DecodeRecordBody(split->record_body, e);
    caseledger::domain::Envelope views;
    FUZZ_CHECK(format::DecodeRecordBody(split->record_body, views,
                                        caseledger::eventstore::EnvelopeFields::kViews) == decodes);
    if (decodes) {
      caseledger::domain::Envelope expected = e;
      expected.actor = {};
      expected.correlation_id.clear();
      expected.causation_id.clear();
      expected.idempotency_key.clear();
      expected.personal.clear();
      FUZZ_CHECK(views == expected);
    }
    if (decodes) {
      caseledger::domain::Envelope again;
      FUZZ_CHECK(format::DecodeRecordBody(format::EncodeRecordBody(e), again));
      // The current layout marks a non-empty personal part sealed; the rest must survive.
      again.personal_form = e.personal_form;
      FUZZ_CHECK(again == e);
    }
  }
  return 0;
}
