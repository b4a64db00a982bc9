// A read replica's log (docs/nats.md): the relayed envelopes of the JetStream stream
// CASELEDGER, read through a durable pull consumer and served as a LogReader, so the
// replica's view runner applies them with the same code as on the primary.
//
// Envelopes carry only public fields (nats_relay.h): bodies re-encoded from the JSON,
// no personal part, zero hashes. ReadLog below what the feed holds (a rebuild of the views
// from position 1 after a rule adoption) reads the stream itself, by sequence, on a
// connection of its own. The feed buffers envelopes in position order without
// gaps; a message at or below what it holds is a duplicate (redelivery, re-publication)
// and skipped. A message is acknowledged to JetStream only once the views have applied it
// durably (`applied` >= its position), so a replica that crashes gets it again. A
// position beyond the next expected one (the consumer was acknowledged ahead of the
// views, e.g. after the views database was deleted) makes the feed recreate the durable
// consumer from the right stream sequence.
#pragma once

#include "eventstore/log_reader.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace caseledger::eventstore {

struct ReplicaFeedOptions {
  std::vector<std::string> urls;  // nats://host:port
  std::string stream = "CASELEDGER";
  std::string subject_prefix = "caseledger.events";
  std::string durable;  // the consumer's name; one per replica
  size_t max_buffered = 1 << 16;  // envelopes held for the views at most
  int fetch_batch = 512;
  std::chrono::seconds ack_wait{30};
  std::chrono::milliseconds max_backoff{2000};
  // Called for every new envelope, in position order, before the views can read it; a
  // replica copies the primary's `users` stream into its local log here, so that grants
  // decide on the replica as on the primary. False stops the feed (failure() says why):
  // the replica must not serve views ahead of the grants it knows.
  std::function<bool(const domain::Envelope&, std::string* why)> before_apply;
};

struct ReplicaFeedStatus {
  uint64_t received_position = 0;  // highest contiguous position held
  uint64_t duplicates = 0;         // messages skipped by position
  uint64_t repositions = 0;        // consumer recreated after a gap
  bool connected = false;
  std::string failure;             // empty while healthy
};

class NatsReplicaFeed final : public LogReader {
 public:
  explicit NatsReplicaFeed(ReplicaFeedOptions options);
  ~NatsReplicaFeed() override;  // Stop()

  // Starts fetching; `applied_base` is the position the views have already applied (the
  // feed starts after it) and `applied` reads the views' durable position. Call once.
  void Start(uint64_t applied_base, std::function<uint64_t()> applied);
  void Stop();

  // LogReader: every position up to the highest contiguous one received, in order: those
  // the feed holds from memory, earlier ones (acknowledged already) read from the stream
  // by sequence (kIo when NATS cannot be reached).
  StoreResult<std::vector<domain::Envelope>> ReadLog(uint64_t from_position,
                                                     size_t max_count) const override;
  uint64_t CommittedPosition() const override;
  bool WaitForPosition(uint64_t position, std::chrono::milliseconds timeout) const override;

  ReplicaFeedStatus Status() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace caseledger::eventstore
