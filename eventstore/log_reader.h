// The read side of a log, as a tail consumer (the view runner) needs it: committed
// envelopes in position order, the committed position and a way to wait for more. The
// local RocksDB log is one (EventStore); a read replica's feed from JetStream is another
// (nats_replica_feed.h), so the views run the same code on both.
//
// Thread safety: every method may be called from any thread concurrently.
#pragma once

#include "domain/envelope.h"

#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <vector>

namespace caseledger::eventstore {

struct StoreError;
template <class T>
using StoreResult = boost::system::result<T, StoreError>;

class LogReader {
 public:
  virtual ~LogReader() = default;
  // Committed events with position >= from_position, at most max_count, in order, with
  // no gap.
  virtual StoreResult<std::vector<domain::Envelope>> ReadLog(uint64_t from_position,
                                                             size_t max_count) const = 0;
  // ReadLog into `out` (replaced; on an error its content is unspecified). A reader may
  // decode into the envelopes `out` already holds, reusing their strings: a rebuild reads
  // ~10^8 envelopes through a few recycled batches instead of allocating each one (and
  // faulting in fresh pages for every batch). This default calls ReadLog.
  virtual StoreResult<void> ReadLogInto(uint64_t from_position, size_t max_count,
                                        std::vector<domain::Envelope>& out) const;
  // Highest position readable with ReadLog. Never decreases.
  virtual uint64_t CommittedPosition() const = 0;
  // Waits until CommittedPosition() >= position or the timeout passes; true if reached.
  virtual bool WaitForPosition(uint64_t position, std::chrono::milliseconds timeout) const = 0;
};

}  // namespace caseledger::eventstore
