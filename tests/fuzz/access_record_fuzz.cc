// One entry of the access-log database (eventstore/access_record.h) as AccessLog hands it
// back when it opens, reports, prunes or verifies: whatever bytes the disk holds, a record
// (formats 1, 2) or a write's entry of records (format 3). Property: a record that decodes
// encodes, in the format it was read in, to exactly those bytes (one encoding per record and
// format); an entry that splits is its count and its records' bytes, and each of them is a
// format-2 record or refused.
#include "eventstore/access_record.h"
#include "tests/fuzz/fuzz_target.h"

CASELEDGER_FUZZ_TARGET(access_record) {
  namespace eventstore = caseledger::eventstore;
  std::string_view bytes = caseledger::fuzz::AsText(data, size);
  if (auto record = eventstore::DecodeAccessRecord(bytes)) {
    FUZZ_CHECK(eventstore::EncodeAccessRecord(*record, bytes.front()) == bytes);
  }
  if (auto records = eventstore::SplitAccessRecords(bytes)) {
    FUZZ_CHECK(!records->empty() && eventstore::AccessRecordsIn(bytes) == records->size());
    if (bytes.front() == eventstore::kAccessEntryFormat) {
      std::string again;
      eventstore::AppendAccessEntryHeader(again, records->size());
      bool all_decode = true;
      for (std::string_view r : *records) {
        FUZZ_CHECK(r.front() == 2 && eventstore::AccessRecordAt(r).has_value());
        if (auto record = eventstore::DecodeAccessRecord(r)) {
          again += eventstore::EncodeAccessRecord(*record);
        } else {
          all_decode = false;
        }
      }
      FUZZ_CHECK(!all_decode || again == bytes);
    }
  }
  return 0;
}
