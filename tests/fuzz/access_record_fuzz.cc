// One record of the access-log database (eventstore/access_record.h) as AccessLog hands it
// back when it opens, reports or verifies: whatever bytes the disk holds. Property: a
// record that decodes encodes, in the format it was read in, to exactly those bytes (one
// encoding per record and format).
#include "eventstore/access_record.h"
#include "tests/fuzz/fuzz_target.h"

CASELEDGER_FUZZ_TARGET(access_record) {
  namespace eventstore = caseledger::eventstore;
  std::string_view bytes = caseledger::fuzz::AsText(data, size);
  if (auto record = eventstore::DecodeAccessRecord(bytes)) {
    FUZZ_CHECK(eventstore::EncodeAccessRecord(*record, bytes.front()) == bytes);
  }
  return 0;
}
