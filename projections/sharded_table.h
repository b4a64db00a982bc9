// Private to projections/: the table of a view keyed by an id (school code, GP id), copied
// on write (cow.h). The writer owns `kShards` shard maps; a snapshot copies only the array
// of shard pointers, so a batch copies the shards, entries and buckets it touched and
// nothing else. With it, what a batch dirtied (DirtyPairs) and the entry codec
// (entry_codec.h) a keyed view's table (keyed_view.h) is made of.
#pragma once

#include "projections/cow.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace caseledger::projections::cow {

inline constexpr size_t kShards = 64;

struct KeyHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

inline size_t ShardOf(std::string_view key) { return KeyHash{}(key) % kShards; }

// Entries by key, each shared with the snapshots that saw it until the writer changes it.
// Runner thread only, but for Frozen.
template <class Entry>
class ShardedTable {
 public:
  using Shard = std::unordered_map<std::string, std::shared_ptr<Entry>, KeyHash, std::equal_to<>>;

  // What readers see: the shards as of one Freeze. Immutable; any thread.
  struct Frozen {
    std::array<std::shared_ptr<const Shard>, kShards> shards;
    // nullptr: no entry.
    const Entry* Find(std::string_view key) const {
      const Shard& shard = *shards[ShardOf(key)];
      auto it = shard.find(key);
      return it == shard.end() ? nullptr : it->second.get();
    }
    // visit(key, entry) for every entry, in no order.
    template <class Visit>
    void ForEach(Visit&& visit) const {
      for (const auto& shard : shards) {
        for (const auto& [key, entry] : *shard) visit(key, static_cast<const Entry&>(*entry));
      }
    }
  };

  ShardedTable() { Clear(); }

  // The working entry; nullptr: none.
  const Entry* Find(std::string_view key) const {
    const Shard& shard = *shards_[ShardOf(key)];
    auto it = shard.find(key);
    return it == shard.end() ? nullptr : it->second.get();
  }
  // The entry, owned by the working state: created empty, or copied first if a snapshot
  // shares it. The key counts as changed.
  Entry& Own(std::string_view key) {
    if (!changed_.contains(key)) changed_.emplace(key);
    Shard& shard = cow::Own(shards_[ShardOf(key)]);
    auto it = shard.find(key);
    if (it == shard.end()) it = shard.emplace(std::string(key), nullptr).first;
    return cow::Own(it->second);
  }
  // Drops the entry, if any. The key counts as changed.
  void Erase(std::string_view key) {
    Shard& shard = cow::Own(shards_[ShardOf(key)]);
    auto it = shard.find(key);
    if (it == shard.end()) return;
    if (!changed_.contains(key)) changed_.emplace(key);
    shard.erase(it);
  }
  // The table as it is now, for readers; forgets the changed keys.
  Frozen Freeze() {
    Frozen f;
    std::copy(shards_.begin(), shards_.end(), f.shards.begin());
    changed_.clear();
    return f;
  }
  // Keys changed since the last Freeze (or ForgetChanges), sorted.
  std::vector<std::string> ChangedKeys() const {
    std::vector<std::string> keys(changed_.begin(), changed_.end());
    std::sort(keys.begin(), keys.end());
    return keys;
  }
  // What Load restored is not a change (KeyedTable::Load).
  void ForgetChanges() { changed_.clear(); }
  void Clear() {
    for (auto& s : shards_) s = std::make_shared<Shard>();
    changed_.clear();
  }

 private:
  std::array<std::shared_ptr<Shard>, kShards> shards_;
  // A hash set, not an ordered one: it is touched by every event (ChangedKeys sorts).
  std::unordered_set<std::string, KeyHash, std::equal_to<>> changed_;
};

// Pairs of keys (a GP and a patient, a school and a class) whose persisted entry a batch
// changed, with repeats: appending is cheaper than a hash set of tens of thousands of
// keys; Drain sorts them out. `Second` holds the second key (std::string, or a type that
// holds it inline, converting explicitly to std::string_view).
template <class Second>
class DirtyPairs {
 public:
  void Mark(std::string_view first, std::string_view second) {
    if (!marked_.empty() && marked_.back().first == first && std::string_view(marked_.back().second) == second) {
      return;
    }
    const uint64_t hash = KeyHash{}(first) * 0x9e3779b97f4a7c15ull ^ KeyHash{}(second);
    marked_.push_back({std::string(first), Second(second), hash});
  }
  // Calls visit(first, second) once for each distinct pair marked, in no particular
  // order, then forgets them all.
  template <class Visit>
  void Drain(Visit&& visit) {
    // Equal pairs have equal hashes, so they end up in one run of the sorted order, where
    // the first of each is visited.
    order_.clear();
    for (uint32_t i = 0; i < marked_.size(); ++i) order_.emplace_back(marked_[i].hash, i);
    std::sort(order_.begin(), order_.end());
    auto same = [&](uint32_t a, uint32_t b) {
      return marked_[a].first == marked_[b].first &&
             std::string_view(marked_[a].second) == std::string_view(marked_[b].second);
    };
    std::vector<uint32_t> seen;  // distinct pairs of the current run (one, but for collisions)
    for (size_t i = 0; i < order_.size(); ++i) {
      if (i == 0 || order_[i].first != order_[i - 1].first) seen.clear();
      const uint32_t at = order_[i].second;
      if (std::any_of(seen.begin(), seen.end(), [&](uint32_t w) { return same(w, at); })) continue;
      seen.push_back(at);
      visit(std::string_view(marked_[at].first), std::string_view(marked_[at].second));
    }
    marked_.clear();
  }
  void Clear() { marked_.clear(); }

 private:
  struct Marked {
    std::string first;
    Second second;
    uint64_t hash;  // of both keys: Drain sorts (hash, index) pairs, not these
  };
  std::vector<Marked> marked_;
  std::vector<std::pair<uint64_t, uint32_t>> order_;  // Drain's scratch
};

}  // namespace caseledger::projections::cow
