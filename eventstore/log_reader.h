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

// What a log read checks of each record besides its decoding.
enum class ChainCheck {
  // Each record's link of the hash chain recomputed and compared with what is stored
  // (a broken link is an error); Envelope::hash and prev_hash set. The relay, history and
  // audit read this way.
  kVerify,
  // The chain trusted (RocksDB's block checksums still catch a torn or rotten block):
  // hash and prev_hash are left zero. For readers that use neither: the views, which
  // rebuild from ~10^8 records, where recomputing every link was ~6 % of a 1:1 catch-up's
  // CPU (docs/benchmarks.md, session 16). Tampering is `caseledger verify`'s to find.
  kTrust,
};

// Which of a record's fields a log read sets.
enum class EnvelopeFields {
  kAll,
  // What the views read: position, stream, version, type, schema version, both instants
  // and the body; personal_form still says whether a personal part was recorded. The
  // actor, the correlation, causation and idempotency ids and the personal part are left
  // empty: no view reads them, and copying them was ~8 % of the instructions of the
  // views' read (docs/benchmarks.md, session 26).
  kViews,
};

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
  // faulting in fresh pages for every batch). This default calls ReadLog (and checks
  // what ReadLog checks and sets every field, whatever `check` and `fields`).
  virtual StoreResult<void> ReadLogInto(uint64_t from_position, size_t max_count,
                                        std::vector<domain::Envelope>& out, ChainCheck check,
                                        EnvelopeFields fields) const;
  // Highest position readable with ReadLog. Never decreases.
  virtual uint64_t CommittedPosition() const = 0;
  // Waits until CommittedPosition() >= position or the timeout passes; true if reached.
  virtual bool WaitForPosition(uint64_t position, std::chrono::milliseconds timeout) const = 0;
};

}  // namespace caseledger::eventstore
