// Private to projections/: the copy-on-write pieces shared by views keyed by an id (school
// code, GP id). The writer owns `kShards` shard maps; Publish copies only the array of shard
// pointers, so a batch copies the shards, entries and buckets it touched and nothing else.
#pragma once

#include "projections/cow.h"

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace caseledger::projections::cow {

inline constexpr size_t kShards = 64;

struct KeyHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

inline size_t ShardOf(std::string_view key) { return KeyHash{}(key) % kShards; }

template <class Entry>
using Shard = std::unordered_map<std::string, std::shared_ptr<Entry>, KeyHash, std::equal_to<>>;

// What readers see: the shard pointers as of one published position.
template <class Entry>
struct Snapshot {
  Snapshot(uint64_t p, const std::array<std::shared_ptr<Shard<Entry>>, kShards>& s) : position(p) {
    std::copy(s.begin(), s.end(), shards.begin());
  }
  uint64_t position;
  std::array<std::shared_ptr<const Shard<Entry>>, kShards> shards;
};

}  // namespace caseledger::projections::cow
