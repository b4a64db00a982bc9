// Private to projections/: where a catch-up from scratch keeps the person entries it wrote
// (person_entry.h) until its end, instead of the views database.
//
// Why: at 1:1 the views database was about a third of a catch-up from scratch
// (docs/benchmarks.md, session 17): every 2^17 events each person changed since was
// written again (memtable, flush, compactions of the rewritten entries), and each of the
// ~15 M people who came back after leaving the cache was read back at ~6 µs (a block read,
// decompressed and cached for one ~200-byte entry). Nothing reads those entries during such
// a catch-up but the catch-up itself, so they go to an append-only file instead: each
// write appended (one pwrite per partition and write), each read one pread of the latest
// copy (the page cache, not the process, holds the file), no compaction (the older copies
// stay in the file until it is removed). An index in memory keeps where each person's
// latest entry is: 24 bytes a person, a ULID packed in 16 bytes (any other id in a map of
// its own). At the end each person's latest entry goes to the views database once: the
// partitions' spills merged in key order into one table file it ingests (ViewsDb::Ingest).
//
// Not eventstore::SpillFile (the loaders' spill): that one reuses its segments and keeps,
// per segment, the numbers of the records written there (4 bytes per write, ~20 M writes at
// 1:1) with 16-byte slots; this one never rewrites in place, so an 8-byte offset|length per
// person and an append-only file are all it needs.
#pragma once

#include "domain/string_hash.h"
#include "eventstore/event_store.h"

#include <absl/container/flat_hash_map.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace caseledger::projections {

class PeopleSpill {
 public:
  template <class T>
  using Result = eventstore::StoreResult<T>;

  // A new, empty spill in a file at `path` (an older one there is replaced); the file is
  // removed when the spill is destroyed.
  static Result<std::unique_ptr<PeopleSpill>> Create(std::string path);
  ~PeopleSpill();
  PeopleSpill(const PeopleSpill&) = delete;
  PeopleSpill& operator=(const PeopleSpill&) = delete;

  // The latest entry of `id` becomes `value`. Kept in memory until Write.
  void Put(std::string_view id, std::string_view value);
  // Appends what Put kept to the file (one pwrite).
  Result<void> Write();
  // The latest entry of `id` into `value`; false: never put.
  Result<bool> Get(std::string_view id, std::string& value) const;

  // Every person's latest entry, in id order, one at a time (TakeSorted): the partitions'
  // spills are merged into one sorted run at the end of a catch-up.
  class Sorted {
   public:
    bool Done() const { return packed_at_ == packed_end_ && others_at_ == others_end_; }
    // The current person's id. REQUIRES: !Done().
    const std::string& Id() const { return id_; }
    // The current person's latest entry. Read ahead: the entries of the next people (up
    // to kAheadBytes) are read at once, in file order, entries close together in one
    // read (ReadAhead), and handed out from memory.
    Result<void> Value(std::string& value);
    void Next();
    // The people left, and the id in the middle of them (a place to split; "" when none).
    size_t size() const { return (packed_end_ - packed_at_) + (others_end_ - others_at_); }
    std::string Middle() const;
    // The people from `from` on go to the Sorted returned, those before stay in this one:
    // two runs over the same spill, to be merged on two threads (the spill is only read).
    Sorted SplitAt(const std::string& from);

   private:
    friend class PeopleSpill;
    using Packed = std::vector<std::pair<std::array<uint64_t, 2>, uint64_t>>;
    using Others = std::vector<std::pair<std::string, uint64_t>>;
    explicit Sorted(const PeopleSpill& spill) : spill_(&spill) {}
    void Settle();  // id_ and where_ from the smaller of the two heads
    // The next people's entries, from the current one on, into ahead_.
    Result<void> ReadAhead();

    const PeopleSpill* spill_;
    std::shared_ptr<const Packed> packed_;  // shared by a Sorted and its SplitAt
    std::shared_ptr<const Others> others_;
    size_t packed_at_ = 0, packed_end_ = 0, others_at_ = 0, others_end_ = 0;
    std::string id_;
    uint64_t where_ = 0;
    bool other_ = false;  // the current one is of others_
    // The people handed out so far (Next), and the entries read ahead: those of the
    // people from ahead_first_ on, the i-th at ahead_at_[i] .. ahead_at_[i + 1] of ahead_.
    size_t seq_ = 0, ahead_first_ = 0;
    std::string ahead_;
    std::vector<uint32_t> ahead_at_;
  };
  // Empties the index (its memory given back) into a Sorted, which reads from this spill:
  // the spill must outlive it, and takes no more Put.
  Sorted TakeSorted();

  size_t people() const { return ulids_.size() + others_.size(); }
  // The index's bytes (its tables' slots), for a memory budget.
  size_t IndexBytes() const;
  // Bytes appended to the file so far.
  uint64_t FileBytes() const { return end_; }
  // System calls that read the file so far (Get and Sorted: by any thread).
  uint64_t FileReads() const { return file_reads_.load(std::memory_order_relaxed); }

  // What a Sorted reads ahead at most: the entries of the next people up to this many
  // bytes, and entries at most kAheadGap bytes apart in one read of at most kAheadRead.
  static constexpr size_t kAheadBytes = size_t{1} << 20;
  static constexpr size_t kAheadGap = 16 << 10;
  static constexpr size_t kAheadRead = 256 << 10;

  // A ULID (26 Crockford base32 characters, the first 0-7) as its 128 bits; false for
  // anything else.
  static bool PackUlid(std::string_view id, std::array<uint64_t, 2>& out);
  static std::string UnpackUlid(const std::array<uint64_t, 2>& bits);

 private:
  PeopleSpill() = default;
  struct UlidHash {
    size_t operator()(const std::array<uint64_t, 2>& k) const {
      return static_cast<size_t>(k[0] ^ (k[1] * 0x9e3779b97f4a7c15ULL));
    }
  };
  // Two words compared inline: std::array's operator== called memcmp for its 16 bytes, at
  // every probe of every Put and Get (docs/benchmarks.md, session 28).
  struct UlidEq {
    bool operator()(const std::array<uint64_t, 2>& a, const std::array<uint64_t, 2>& b) const {
      return ((a[0] ^ b[0]) | (a[1] ^ b[1])) == 0;
    }
  };
  // Where an entry is: offset << 24 | length (entries under 16 MiB, files under 1 TiB).
  static constexpr int kLengthBits = 24;
  uint64_t Locate(std::string_view value);
  Result<void> ReadAt(uint64_t where, std::string& value) const;
  // `length` bytes at `offset` into `out`, from the file or what Put keeps unwritten.
  Result<void> ReadRange(uint64_t offset, size_t length, char* out) const;

  std::string path_;
  int fd_ = -1;
  uint64_t end_ = 0;       // bytes in the file
  mutable std::atomic<uint64_t> file_reads_{0};
  std::string pending_;    // appended by Put, not written yet: at end_
  absl::flat_hash_map<std::array<uint64_t, 2>, uint64_t, UlidHash, UlidEq> ulids_;
  absl::flat_hash_map<std::string, uint64_t, domain::StringHash, std::equal_to<>> others_;
};

}  // namespace caseledger::projections
