// Applies the demo workload's commands the way the API does (api/command_service.cc):
// Decide against the person's state, encode, append with the expected stream version and
// the decision's claims. The state is folded in memory from the decisions instead of being
// read back, so a whole day is decided first and then appended by several appenders at
// once (each stream by one of them, in order), which lets group commit share WAL syncs.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "domain/commands.h"
#include "domain/envelope.h"
#include "domain/person.h"
#include "domain/reference.h"
#include "eventstore/event_store.h"
#include "workload/demo_workload.h"

namespace caseledger::workload {

class DemoAppender {
 public:
  struct Counts {
    uint64_t commands = 0;  // decided and queued
    uint64_t events = 0;
    uint64_t rejected = 0;                      // decisions that failed: a bug in the generator
    std::vector<std::string> first_rejections;  // up to 10, "<command> <person>: <reason>"
  };

  // `reference` must outlive the appender. `appenders` >= 1.
  DemoAppender(const domain::ReferenceData* reference, domain::Actor actor, int appenders);

  // Decides `command` for the person whose state is `state` (a fresh PersonState, with
  // `person_id` naming the new person, for a registration) as of `now`. On success evolves
  // `state`, queues the append and returns true; a rejection is counted and returns false.
  // `stream_key` (> 0) is the workload's number of the person's stream (DecidedAppend).
  bool Apply(domain::PersonState& state, const std::string& person_id, uint64_t stream_key,
             const domain::PersonCommand& command, domain::Timestamp now);
  // From now on a person's appends after their first are queued without the stream's name,
  // by their key only (DecidedAppend): for FlushTo's sink, not for Flush.
  void NameStreamsOnce() { name_streams_once_ = true; }
  // Queues a request of another stream as it is.
  void Queue(eventstore::AppendRequest request);

  // Appends everything queued and empties the queue. Stops at the first store error (for
  // this workload any store error is fatal: nothing else writes while it loads).
  eventstore::StoreResult<void> Flush(eventstore::EventStore& store);
  using Sink = std::function<eventstore::StoreResult<void>(DecidedBatch&)>;
  // Hands everything queued, in order, to `sink` (a bulk import: it
  // takes the requests out of the vector, DemoOptions::sink) and empties the queue. After a
  // hand-off of HandOffEvery failed, returns its error.
  eventstore::StoreResult<void> FlushTo(const Sink& sink);
  // Hands the queue to `sink` as soon as `requests` are queued, within the day, rather than
  // only at FlushTo; the first failure is kept for FlushTo. For a sink on another thread:
  // requests handed over a day's worth at a time were read back from main memory there
  // once a day's outgrew the caches (1:10 and up), a batch's are still in them.
  void HandOffEvery(size_t requests, Sink sink);

  // Resuming a load that stopped (a killed scale run): the store already holds the first
  // `events` events this workload generates. Flushes that fall wholly within them append
  // nothing. The first one past them (the one the earlier load stopped in, or the next)
  // appends, per stream, only the requests the store does not hold yet (read from the
  // stream's version); a stream neither before nor after a request is
  // kWrongExpectedVersion, with nothing of the flush appended: the store holds another
  // workload (seed, scale, range). Every request of that flush must name its expected
  // version. Call before the first Flush.
  void ResumeAfter(uint64_t events) { resume_after_ = events; }

  const Counts& counts() const { return counts_; }

 private:
  const domain::ReferenceData* reference_;
  domain::Actor actor_;
  int appenders_;
  DecidedBatch queued_;
  Counts counts_;
  uint64_t resume_after_ = 0;
  uint64_t flushed_events_ = 0;  // generated events flushed or skipped so far
  size_t hand_off_every_ = 0;    // 0: at FlushTo only
  Sink hand_off_;
  std::optional<eventstore::StoreError> hand_off_error_;
  bool name_streams_once_ = false;

  // Of `requests`, those the store lacks, for the flush a resumed load stopped in.
  static eventstore::StoreResult<void> DropStored(eventstore::EventStore& store,
                                                  std::vector<eventstore::AppendRequest>& requests);
};

}  // namespace caseledger::workload
