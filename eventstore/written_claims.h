// Private to eventstore/: the owners of claims that are not personal ("swab/<id>" ->
// "person-<id>"), as the group commit wrote them or a read found them, so that the owner
// read a swab command makes (ClaimOwner, on every collection and result) is a hash lookup
// instead of a RocksDB point read. Personal claims (a tax code's keyed hash) are never kept
// here: they stay in the database alone, where an erasure's purge reaches them.
//
// Contract: the group commit's completion puts every claim it took (Put) and removes every
// claim it released (Erase), after their group's write returned and in group order, so an
// owner found is the claim's owner in the database (the store is the only writer of its
// claims while it serves appends). An owner read from the database is kept too (Fill),
// unless the claim's shard changed since the read began (its generation, taken before the
// read, moves with every Put, Erase and emptying): a release that came meanwhile cannot be
// undone by a stale fill. Not found says nothing: read the database. Bounded: a full shard
// is emptied. Whoever writes claims another way (a standby applying shipped batches, a bulk
// import) calls Clear() after writing them.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <boost/unordered/unordered_flat_map.hpp>

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace caseledger::eventstore {

class WrittenClaims {
 public:
  explicit WrittenClaims(size_t capacity = 1 << 16) : per_shard_(capacity / kShards + 1) {}

  std::optional<std::string> Find(const std::string& claim) const;
  // A claim the group commit wrote to `owner` / released. Personal claims are ignored.
  void Put(const std::string& claim, const std::string& owner);
  void Erase(const std::string& claim);
  // Before reading `claim`'s owner from the database: the token for Fill.
  uint64_t Generation(const std::string& claim) const;
  // The owner just read from the database, kept unless the claim's shard changed since
  // Generation() gave `generation`. Personal claims are ignored.
  void Fill(const std::string& claim, const std::string& owner, uint64_t generation);
  void Clear();

 private:
  static constexpr size_t kShards = 16;
  struct Shard {
    mutable std::mutex mu;
    boost::unordered_flat_map<std::string, std::string> owners;
    uint64_t generation = 0;  // moves with every change
  };
  // REQUIRES: shard.mu held.
  void PutLocked(Shard& shard, const std::string& claim, const std::string& owner);
  Shard& ShardOf(std::string_view claim) { return shards_[std::hash<std::string_view>{}(claim) % kShards]; }
  const Shard& ShardOf(std::string_view claim) const {
    return shards_[std::hash<std::string_view>{}(claim) % kShards];
  }

  size_t per_shard_;
  std::array<Shard, kShards> shards_;
};

}  // namespace caseledger::eventstore
