// The append benchmark's workload: histories of people, one realistic encoded event per
// append request. Each writer owns its streams, so appends never conflict: a writer fills
// one person's stream (registration, swab, result, isolation, ...) with ExpectedVersion
// Exactly(version so far), then moves on to a new person. Each history is valid for the
// views (one swab requested, collected and reported; an isolation ordered and ended).
//
// Thread safety: a writer is used by one thread at a time.
#pragma once

#include <cstdint>
#include <string>

#include "eventstore/event_store.h"

namespace caseledger::workload {

class PersonHistoryWriter {
 public:
  // `seed` makes the generated ids, names and codes differ between writers.
  explicit PersonHistoryWriter(uint64_t seed);

  // The request for the next event of the current person, built afresh and the caller's to
  // move into AppendAsync, as a server builds each command's (its stream and actor copied,
  // the encoded event moved in): handing out a reused request to be copied made a copy of
  // every encoded event that no server makes.
  eventstore::AppendRequest Next();
  // Records that the request from Next() was appended; the following Next() continues
  // the same stream or starts a new person.
  void Appended();

  // Encoded size of `request`'s one event in the log (record body and hash, per
  // eventstore/FORMAT.md), index entries not counted.
  static size_t RecordBytes(const eventstore::AppendRequest& request);
  // Mean RecordBytes over a few whole histories of a fresh writer.
  static double MeanRecordBytes();

 private:
  // xoshiro256** (Blackman and Vigna): 32 bytes of state where a Mersenne Twister kept 2.5 KB
  // per writer (160 KB over the bench's 64, churned through the cache by every append) and
  // regenerated it in bursts; a server's ids come from a pool of random bytes, not from a
  // generator of its own per connection. Not for anything secret.
  class Random {
   public:
    explicit Random(uint64_t seed);
    uint64_t operator()();

   private:
    uint64_t s_[4];
  };

  std::string RandomCode(size_t length, std::string_view alphabet);
  void StartPerson();

  Random rng_;
  std::string person_id_;
  std::string swab_id_;
  uint64_t version_ = 0;  // events already in the current person's stream
  std::string stream_;    // the current person's
  domain::Actor actor_;
};

}  // namespace caseledger::workload
