// Private to eventstore/: the records of the last group commits, kept in memory as they were
// written to the events family, so that a reader of the log's tail (the views, after every
// group) decodes them from there instead of opening a RocksDB iterator over every level and
// memtable to read back what was written a few milliseconds before (docs/benchmarks.md,
// session 17: ~20 % of the views' thread under the commands' load was that read).
//
// The group commit adds a group's records after its sync and before the committed position
// moves past them, so the log's readers, which stop at that position, never find here what
// is not durable. A record's bytes here are the bytes the events family holds (key and
// value), decoded by the same code: a read served from here gives the envelopes a read of
// the database gives. What is not held here (older, evicted, or written by another path:
// a bulk import, a standby's apply) is read from the database.
//
// Thread safety: every method may be called from any thread concurrently.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace caseledger::eventstore {

// The records of one group: positions first .. first + size() - 1, in order.
class RecordRun {
 public:
  uint64_t first() const { return first_; }
  size_t size() const { return ends_.size(); }
  uint64_t end() const { return first_ + ends_.size(); }  // the position after the last
  size_t bytes() const { return bytes_.size(); }
  size_t capacity() const { return bytes_.capacity(); }
  // The record at `position` (first() <= position < end()): the events family's value.
  std::string_view at(uint64_t position) const {
    const size_t i = position - first_;
    const size_t from = i == 0 ? 0 : ends_[i - 1];
    return std::string_view(bytes_).substr(from, ends_[i] - from);
  }
  // The writer's side (before the run is handed to RecentLog::Add): the next record.
  void Start(uint64_t first) { first_ = first; }
  void Append(std::string_view record) {
    bytes_.append(record);
    ends_.push_back(static_cast<uint32_t>(bytes_.size()));
  }
  void Clear() {
    first_ = 0;
    bytes_.clear();
    ends_.clear();
  }

 private:
  uint64_t first_ = 0;
  std::string bytes_;
  std::vector<uint32_t> ends_;  // each record's end in bytes_
};

class RecentLog {
 public:
  // Keeps runs up to about `max_bytes` of records (the newest run always, unless it alone
  // is larger: an import's or a long erasure's group is left to the database).
  explicit RecentLog(size_t max_bytes) : max_bytes_(max_bytes) {}

  // Adds the next run, which no one may change from then on: `run` is left holding an
  // empty one for the writer's next group (an evicted run's, with its buffers' capacity,
  // when no reader holds it). A run that does not start right after the newest one held
  // (another path wrote the positions in between) starts the log afresh.
  void Add(std::shared_ptr<RecordRun>& run);
  // The runs holding positions [from, from + count), contiguous and in order, or nothing
  // when any of them is not held.
  std::vector<std::shared_ptr<const RecordRun>> Find(uint64_t from, uint64_t count) const;
  // Forgets every run (a store whose log was changed by another path).
  void Clear();
  // Bytes of records held.
  size_t Bytes() const;

 private:
  const size_t max_bytes_;
  mutable std::mutex mu_;
  std::deque<std::shared_ptr<const RecordRun>> runs_;  // guarded by mu_, contiguous, oldest first
  size_t bytes_ = 0;                                   // guarded by mu_
  std::shared_ptr<RecordRun> spare_;                   // guarded by mu_: an evicted run nobody reads
};

}  // namespace caseledger::eventstore
