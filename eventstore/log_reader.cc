#include "eventstore/log_reader.h"

#include "eventstore/event_store.h"

namespace caseledger::eventstore {

StoreResult<void> LogReader::ReadLogInto(uint64_t from_position, size_t max_count,
                                         std::vector<domain::Envelope>& out, ChainCheck,
                                         EnvelopeFields) const {
  auto read = ReadLog(from_position, max_count);
  if (!read) return read.error();
  out = std::move(*read);
  return {};
}

}  // namespace caseledger::eventstore
