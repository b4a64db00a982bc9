// The access log's writer state and key layout, shared by access_log.cc (the writer,
// recording, open) and access_log_read.cc (the report, the chain's check, pruning). Not for
// other modules: AccessLog (access_log.h) is the interface.
//
// Key layout of the access log database (one default column family):
//   "r" BE64(seq)                      -> format byte 3: the records of one write from seq on
//                                         (a count, then each in format 2; at most
//                                         kEntryRecords, spanning at most kEntrySpan of
//                                         their instants), then the 32-byte hash of the
//                                         entry. Format 2 or 1 (before 2026-12-06,
//                                         morning): one record, then its hash; read still.
//   "p" person_id '\0' BE64(seq)       -> varint deltas of the person's earlier seqs in the
//                                         same write, newest first; "" when none (index for
//                                         the access report; one entry per person per write)
//   "a"                                -> BE64(seq) + hash of the last pruned entry's last
//                                         record (anchor)
// hash(entry at seq) = SHA-256(hash(entry before) || BE64(seq) || entry's bytes), hash(anchor)
// as stored, or 32 zero bytes when nothing was ever pruned.
#pragma once

#include "eventstore/access_log.h"
#include "eventstore/access_record.h"
#include "eventstore/record_format.h"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <boost/unordered/unordered_flat_map.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace caseledger::eventstore {
namespace access_log_internal {

constexpr int64_t kMicrosPerDay = 86'400'000'000;
constexpr auto kPruneEvery = std::chrono::hours(1);
// A write's records go in entries of at most this many (a report reads a whole entry for
// one of its records) ...
constexpr size_t kEntryRecords = 1024;
// ... whose instants lie within this of the entry's first record's: an entry is pruned
// whole, once its newest record is past the retention.
constexpr int64_t kEntrySpanMicros = 1'000'000;

inline std::string RecordKey(uint64_t seq) {
  std::string k = "r";
  format::PutFixed64BE(k, seq);
  return k;
}

inline std::string IndexKey(const std::string& person, uint64_t seq) {
  std::string k = "p" + person;
  k.push_back('\0');
  format::PutFixed64BE(k, seq);
  return k;
}

}  // namespace access_log_internal

struct AccessLog::Impl {
  AccessLogOptions options;
  std::unique_ptr<rocksdb::DB> db;

  std::mutex mu;
  std::condition_variable wake;     // the writer: something queued, or stopping
  std::condition_variable flushed;  // Flush() callers: `written` moved
  // Where Record() queues: the calling thread's queue (ThisThreadsQueue), with a lock of its
  // own, in cache lines of its own. With one queue and one lock, each read's record wrote
  // lines the other I/O thread had just written (the lock, the queue's ends, its bytes).
  static constexpr size_t kQueues = 16;
  struct alignas(64) ThreadQueue {
    std::mutex mu;
    AccessRecordQueue records;  // queued, not yet taken by the writer
    uint64_t queued = 0;        // records ever queued here
  };
  std::array<ThreadQueue, kQueues> queues;
  // Under `mu`: of each queue's records, those written; those taken (Take), not yet written.
  std::array<uint64_t, kQueues> written{};
  std::array<uint64_t, kQueues> taken{};
  bool stopping = false;
  bool flush_wanted = false;  // a Flush() caller waits: write now, not at the next interval
  std::optional<StoreError> failure;  // sticky after a failed write, like the event log
  std::optional<StoreError> no_space;  // below the free-space floor: lifts by itself
  // failure || no_space, set under `mu` whenever either changes: WriteRefusal()'s look on
  // every read takes no lock while neither is set (the lock's cache line was written by
  // both I/O threads and the writer on every read).
  std::atomic<bool> refusing{false};
  void NoteRefusal() { refusing.store(failure.has_value() || no_space.has_value(), std::memory_order_release); }
  uint64_t attempts = 0;  // writes tried (a Flush() waits for one after its call)

  // Owned by the writer thread after Open.
  uint64_t last_seq = 0;
  domain::Hash last_hash{};
  std::atomic<uint64_t> visible_seq{0};
  std::chrono::steady_clock::time_point next_prune;
  std::thread writer;
  // The writer's buffers, kept from one write to the next (Write). `batch`: the records
  // taken and not yet written (held while no write can be made), in their order.
  AccessRecordQueue batch;
  std::array<AccessRecordQueue, kQueues> spare;  // emptied buffers, handed back to the queues
  rocksdb::WriteBatch write_batch;
  // A write's records grouped by person (Write): each person's latest record in the batch
  // and, per record, the one of the same person before it.
  struct PersonGroup {
    std::string_view person;
    uint32_t last = 0;  // index in the batch of the person's latest record
  };
  std::vector<PersonGroup> groups;
  // A person id's hash from three of its words (boost's hash of a string went through every
  // byte: ~400 instructions a record at 80 records a write, more than the sort it replaced);
  // mixed again by the map, as it is not marked avalanching.
  struct IdHash {
    size_t operator()(std::string_view id) const noexcept {
      if (id.size() < 16) return boost::hash<std::string_view>()(id);
      uint64_t first, middle, last;
      std::memcpy(&first, id.data(), 8);
      std::memcpy(&middle, id.data() + id.size() / 2 - 4, 8);
      std::memcpy(&last, id.data() + id.size() - 8, 8);
      return (first * 0x9E3779B97F4A7C15ull) ^ (middle * 0xC2B2AE3D27D4EB4Full) ^ last ^ id.size();
    }
  };
  boost::unordered_flat_map<std::string_view, uint32_t, IdHash> group_of;  // person -> index in `groups`
  std::vector<uint32_t> previous;  // per record: the person's record before it, or kNone
  static constexpr uint32_t kNone = UINT32_MAX;
  std::string index_key, index_value;
  std::string body;

  void Run();
  // Moves what the queues hold to the end of `batch` (mu held), the queues' records merged
  // by instant (each queue's in the order its thread recorded them).
  void Take();
  // What the queues hold, not yet taken (mu held).
  uint64_t Queued();
  StoreResult<void> Write(const AccessRecordQueue& batch);
  StoreResult<void> LoadTip();
  StoreResult<uint64_t> Prune();
  StoreResult<std::optional<std::pair<uint64_t, domain::Hash>>> Anchor() const;
};

}  // namespace caseledger::eventstore
