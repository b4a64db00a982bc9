// Private to eventstore/: seeding a standby (standby.h, docs/standby.md). A consistent
// RocksDB snapshot of the whole store, read in parts: put-only write batches (their
// sequence 0, which tells them from WAL batches), the log first in position order (the
// standby checks its chain as it applies them), the default family last without the role
// keys. Shipped as frames of kind FrameKind::kSeed; the last part has end_sequence =
// first_sequence + 1 (the snapshot's sequence + 1: the WAL continues there), the others 0.
#pragma once

#include "eventstore/event_store.h"

#include <memory>

namespace caseledger::eventstore {

class SeedReader {
 public:
  virtual ~SeedReader() = default;
  virtual uint64_t sequence() const = 0;  // the snapshot's: the WAL continues after it
  // The next part, about `max_bytes`; its end_sequence is set on the last one.
  virtual StoreResult<ShippedBatches> Next(size_t max_bytes) = 0;
  virtual bool done() const = 0;
};

// A reader over a snapshot taken now; must not outlive `store`.
StoreResult<std::unique_ptr<SeedReader>> BeginSeed(const EventStore& store);

}  // namespace caseledger::eventstore
