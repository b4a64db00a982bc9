// Private to eventstore/: the heads (version, last position) of the streams this store's
// group commit wrote lately, or that were read from the database since, so that the reads
// of a stream's head a command makes (the person cache's version check, through
// StreamVersion, Prepare's expected-version check, the grants' check of the users stream
// on every request after an append) are a hash lookup instead of a RocksDB point read each.
//
// Contract: the group commit's completion puts heads here (Put), after their group's write
// returned and in group order, so a head found is the stream's head in the database (the
// store is the only writer of its heads while it serves appends). A head read from the
// database is kept too (Fill), unless the shard was emptied since the read began (its
// generation, taken before the read, moved): a Put that came meanwhile holds a newer head
// and wins by version, and one that an emptying took away cannot be brought back stale.
// Not found says nothing: read the database. Bounded: a full shard is emptied. Whoever
// writes heads another way (a standby applying shipped batches, a bulk import) calls
// Clear() after writing them.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include "eventstore/record_format.h"

#include <boost/unordered/unordered_flat_map.hpp>

#include <array>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace caseledger::eventstore {

class WrittenHeads {
 public:
  explicit WrittenHeads(size_t capacity = 1 << 16) : per_shard_(capacity / kShards + 1) {}

  std::optional<format::Head> Find(const std::string& stream) const;
  // Keeps the newer of `head` and the one held (by version).
  void Put(const std::string& stream, const format::Head& head);
  // Before reading `stream`'s head from the database: the token for Fill.
  uint64_t Generation(const std::string& stream) const;
  // The head just read from the database, kept as Put would keep it unless the stream's
  // shard was emptied since Generation() gave `generation`.
  void Fill(const std::string& stream, const format::Head& head, uint64_t generation);
  void Clear();

 private:
  static constexpr size_t kShards = 16;
  struct Shard {
    mutable std::mutex mu;
    boost::unordered_flat_map<std::string, format::Head> heads;
    uint64_t generation = 0;  // moves each time `heads` is emptied
  };
  // REQUIRES: shard.mu held.
  void PutLocked(Shard& shard, const std::string& stream, const format::Head& head);
  Shard& ShardOf(std::string_view stream) { return shards_[std::hash<std::string_view>{}(stream) % kShards]; }
  const Shard& ShardOf(std::string_view stream) const {
    return shards_[std::hash<std::string_view>{}(stream) % kShards];
  }

  size_t per_shard_;
  std::array<Shard, kShards> shards_;
};

}  // namespace caseledger::eventstore
