// The NATS relay (docs/nats.md): a tail consumer of the log that publishes every committed
// event, in position order, to the JetStream stream CASELEDGER, subject
// "caseledger.events.<type>".
//
// What a consumer of the stream can rely on (the relay's contract):
// - Every message is one log event. Headers: Nats-Msg-Id and Caseledger-Position = the
//   global position (decimal), Caseledger-Stream, Caseledger-Type,
//   Caseledger-Schema-Version. The payload is the envelope's public JSON form
//   (domain/event_json.h) without hashes and idempotency key: no personal data, person
//   ids are pseudonymous. Schema version is the one of the JSON (current structs).
// - Stream order is position order, without gaps, each position once: every publish
//   carries Nats-Expected-Last-Sequence, so JetStream refuses a message whose
//   predecessor it does not hold; after any failure the relay drains what is in flight,
//   reads the stream's last message and resumes right after it. Nats-Msg-Id (duplicate
//   window, one hour by default) drops a re-sent message that had in fact been stored.
// - Beyond that, consumers compare positions: a consumer that sees a position at or
//   below the last one it applied skips it (e.g. when JetStream lost an acknowledged
//   tail after a crash and the relay published it again, see below).
// - The log is the truth. When the stream's last position is below the relay's
//   checkpoint (JetStream lost acknowledged messages: 2.9 fsyncs file storage only every
//   two minutes) the relay publishes the missing positions again from the log; when it
//   is above the log's committed position the stream belongs to another store and the
//   relay refuses to publish (logged, `failure()`), retrying with backoff.
//
// The checkpoint ("nats-relay" in the store's checkpoints family) advances only over a
// contiguous prefix of acknowledged positions. Commands never wait for the relay: when
// NATS is down or slow the relay falls behind (lag) and catches up when it returns.
#pragma once

#include "eventstore/event_store.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace caseledger::eventstore {

struct RelayOptions {
  std::vector<std::string> urls;  // nats://host:port, tried in order
  std::string stream = "CASELEDGER";
  std::string subject_prefix = "caseledger.events";
  int replicas = 1;                                 // when the relay creates the stream
  std::chrono::seconds duplicate_window{3600};      // JetStream's default is 2 minutes
  size_t window = 1024;                             // publishes awaiting their ack
  std::chrono::milliseconds ack_timeout{5000};      // a publish without ack by then failed
  std::chrono::milliseconds checkpoint_every{100};  // how often the checkpoint is written
  std::chrono::milliseconds max_backoff{5000};      // reconnect/resync backoff ceiling
  std::string checkpoint_name = "nats-relay";
};

// Counters for /metrics. Thread-safe.
struct RelayStatus {
  uint64_t acked_position = 0;  // every position up to here is in the stream
  uint64_t published = 0;       // messages acknowledged since start (duplicates included)
  uint64_t resyncs = 0;         // sessions started (1 + reconnects/failures)
  bool connected = false;
  std::string failure;          // why the relay is not publishing now; empty when it is
};

class NatsRelay {
 public:
  // Starts the relay thread; it connects (retrying with backoff), creates the stream if
  // missing and publishes from where the stream ends. Never fails: NATS being down is
  // a state, not an error. `store` must outlive the relay.
  static std::unique_ptr<NatsRelay> Start(EventStore& store, RelayOptions options);
  ~NatsRelay();  // Stop()
  // Waits (at most ack_timeout) for what is in flight, writes the checkpoint, disconnects.
  void Stop();

  RelayStatus Status() const;
  // Committed positions not yet acknowledged by JetStream.
  uint64_t Lag() const;

 private:
  NatsRelay() = default;
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace caseledger::eventstore
