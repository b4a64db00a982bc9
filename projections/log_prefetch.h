// Private to projections/: batches of the log read and decoded for the view runner, either
// on the runner's own thread (ReadDecoded) or ahead of it on a thread of their own
// (LogPrefetcher), so that a rebuild reads and decodes batch N+1 while it applies batch N.
#pragma once

#include "domain/envelope.h"
#include "domain/events.h"
#include "eventstore/event_store.h"
#include "eventstore/log_reader.h"
#include "projections/event_keys.h"
#include "projections/person_key.h"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace caseledger::projections {

// Envelopes in position order with their events decoded (public part only: views never
// need the personal part). events[i] is envelopes[i]'s event; when an envelope does not
// decode, `events` stops before it and decode_error says why.
struct DecodedBatch {
  std::vector<domain::Envelope> envelopes;
  std::vector<domain::Event> events;
  // persons[i]: the person id of envelopes[i]'s "person-<id>" stream, hashed (PersonKeyHash's
  // hash; empty id and hash 0 for other streams), a view of envelopes[i].stream, valid while
  // the envelope is unchanged (the batch may move: its vectors keep their elements). Filled
  // by ReadDecodedInto (IndexPersons) on the thread that read the batch, where the stream was
  // just written. Why: the batch pipeline's runner thread found and hashed each event's
  // person to pick its partition (FNV-1a, ~240 instructions an event on the one thread the
  // pipeline's cores wait for), and the partitions hashed it again for their tables
  // (docs/benchmarks.md, session 28).
  std::vector<HashedId> persons;
  // keys[i]: what the fold and several views derive from events[i] alike (its effective day,
  // its swab id's hash: EventKeys), computed here on the reading thread, which has room,
  // rather than by each of them on the threads the pipeline waits for (LogEvent::keys).
  // As long as `events` (empty for a batch built otherwise: the pipeline computes them).
  std::vector<EventKeys> keys;
  // How many envelopes from the first have positions that follow one another, counted by
  // ReadDecodedInto as it decodes them (0 for a batch built otherwise): the runner's check
  // of a batch (ViewRunner's Invalid) then looks at no envelope, on its one thread.
  size_t in_order = 0;
  std::string decode_error;
  bool empty() const { return envelopes.empty(); }
  // Fills `persons` from `envelopes` (a batch built otherwise than by ReadDecodedInto).
  void IndexPersons();
};

// The person of a "person-<id>" stream, hashed (DecodedBatch::persons); {} for other streams.
HashedId StreamPerson(const domain::Envelope& env);

// ReadLog(from, max_count), then every envelope decoded until the first that does not.
eventstore::StoreResult<DecodedBatch> ReadDecoded(const eventstore::LogReader& log, uint64_t from,
                                                  size_t max_count);
// ReadDecoded into `batch` (replaced), reusing its envelopes and events (ReadLogInto).
eventstore::StoreResult<void> ReadDecodedInto(const eventstore::LogReader& log, uint64_t from,
                                              size_t max_count, DecodedBatch& batch);

// Reads positions [from, to] in batches of at most max_batch on `readers` threads it owns,
// keeping up to `depth` batches read or being read ahead of the consumer (at least
// `readers`). Batch k is [from + k * max_batch, ...]; the readers take the next batch in turn
// (on a 2-core machine the pipeline's two threads waited for one reader: its thread had a
// third of a catch-up's instructions, docs/benchmarks.md, session 30). Batches come out of
// Next() in order whatever thread read them; a read error, an event that does not decode or
// a log shorter than the range ends the batches handed out there (what the readers read
// after it is dropped). Batches given back with Recycle are read into again (or destroyed)
// on the reading thread that allocated them. Next() and Recycle() are for one consumer
// thread. The destructor stops and joins the threads; batches not taken are dropped.
class LogPrefetcher {
 public:
  LogPrefetcher(const eventstore::LogReader& log, uint64_t from, uint64_t to, size_t max_batch,
                size_t depth = 1, size_t readers = 1);
  ~LogPrefetcher();
  LogPrefetcher(const LogPrefetcher&) = delete;
  LogPrefetcher& operator=(const LogPrefetcher&) = delete;

  // The next batch; an empty one once the range has been handed out (or the log returned
  // nothing more).
  eventstore::StoreResult<DecodedBatch> Next();
  void Recycle(DecodedBatch batch);
  // Batches given back and not yet read into again or freed. Once every batch of the range
  // is claimed by a reader, each reader frees those it keeps and those given back to it as
  // they come (not at the destructor's join, on the consumer's path): 0 soon after the
  // last batch handed out is given back.
  size_t Kept() const;
  // Reading threads not ended yet. Each ends on its own once every batch of the range is
  // claimed and every batch it read was handed out and given back (freed): a consumer that
  // gives back all it takes finds none to join at the destructor.
  size_t Running() const;
  // The range it reads, [from, to].
  uint64_t from() const { return from_; }
  uint64_t to() const { return to_; }

 private:
  struct Read {
    std::optional<eventstore::StoreResult<DecodedBatch>> batch;  // empty: being read
    size_t reader = 0;                                           // the thread reading it
  };
  void Run(size_t reader);

  const eventstore::LogReader& log_;
  const uint64_t from_, to_;
  const size_t max_batch_, depth_;
  size_t keep_ = 0;  // recycled batches each thread keeps to read into (its share of depth_ + 2)
  mutable std::mutex mu_;
  std::condition_variable ready_;  // a batch was read, or the reading ended
  std::condition_variable room_;   // a batch was taken or recycled, or stop
  // Batches next_out_, next_out_ + 1, ... claimed by a reader (read or being read).
  std::deque<Read> reads_;             // guarded by mu_
  uint64_t next_out_ = 0;              // guarded by mu_: the batch Next() hands out next
  uint64_t end_ = 0;                   // guarded by mu_: batches from here are not handed out
  std::deque<size_t> handed_;          // guarded by mu_: the reader of each batch not recycled
  std::vector<std::vector<DecodedBatch>> used_;  // guarded by mu_: recycled, per reader
  std::vector<size_t> spare_;  // guarded by mu_: how many each reader keeps (Kept)
  bool stop_ = false;                            // guarded by mu_
  size_t running_ = 0;                           // guarded by mu_: Running()
  std::vector<std::thread> threads_;
};

}  // namespace caseledger::projections
