// The bytes of one access-log record (the "r" keys of access_log.cc's layout): format
// byte 1, then cereal binary of the record. Private to eventstore/ and its tests; split
// out so that what a damaged database hands back on open is tested and fuzzed alone
// (tests/fuzz/access_record_fuzz.cc).
#pragma once

#include "eventstore/access_log.h"

#include <optional>
#include <string>
#include <string_view>

namespace caseledger::eventstore {

std::string EncodeAccessRecord(const AccessRecord& r);
// The same bytes into `out` (replacing what it held, reusing its buffer).
void EncodeAccessRecordInto(const AccessRecord& r, std::string& out);

// nullopt when the bytes are not a record of format 1: another format byte, short, a
// length beyond the bytes, or bytes left over.
std::optional<AccessRecord> DecodeAccessRecord(std::string_view bytes);

}  // namespace caseledger::eventstore
