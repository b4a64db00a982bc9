// Private to projections/: the table of a view keyed by an id (school code, GP id), copied
// on write (cow.h). The writer owns `kShards` shard maps; a snapshot copies only the array
// of shard pointers, so a batch copies the shards, entries and buckets it touched and
// nothing else. With it, what a batch dirtied (DirtyPairs) and the entry codec
// (entry_codec.h) a keyed view's table (keyed_view.h) is made of.
#pragma once

#include "domain/string_hash.h"
#include "projections/cow.h"

#include <absl/container/flat_hash_map.h>

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

using KeyHash = domain::StringHash;

// A key's shard: the top bits of its hash. The shard's Swiss table is probed with the same
// hash (its low bits pick the control byte, so they must not be the shard's).
inline size_t ShardOf(size_t hash) { return hash >> (64 - 6); }
static_assert(kShards == 64 && sizeof(size_t) == 8);

// Entries by key, each shared with the snapshots that saw it until the writer changes it.
// Runner thread only, but for Frozen.
//
// Every event of a GP's patient or a school's pupil finds or owns its entry here, several
// times: the shards are Swiss tables (absl::flat_hash_map) probed with one hash of the key,
// and whether a key changed since the last Freeze is a stamp in its slot, not a look-up in
// a set of its own (with std::unordered_map and an unordered_set of changed keys, the GP
// view's look-ups were ~6 % of a rebuild at 1:10).
template <class Entry>
class ShardedTable {
 public:
  struct Slot {
    std::shared_ptr<Entry> entry;
    uint64_t changed = 0;  // the Freeze epoch in which the key last changed (0: none)
  };
  using Shard = absl::flat_hash_map<std::string, Slot, KeyHash, std::equal_to<>>;

  // What readers see: the shards as of one Freeze. Immutable; any thread.
  struct Frozen {
    std::array<std::shared_ptr<const Shard>, kShards> shards;
    // nullptr: no entry.
    const Entry* Find(std::string_view key) const {
      const size_t hash = KeyHash{}(key);
      const Shard& shard = *shards[ShardOf(hash)];
      auto it = shard.find(key, hash);
      return it == shard.end() ? nullptr : it->second.entry.get();
    }
    // visit(key, entry) for every entry, in no order.
    template <class Visit>
    void ForEach(Visit&& visit) const {
      for (const auto& shard : shards) {
        for (const auto& [key, slot] : *shard) visit(key, static_cast<const Entry&>(*slot.entry));
      }
    }
  };

  ShardedTable() { Clear(); }

  // visit(key, entry) for every working entry, in no order.
  template <class Visit>
  void ForEach(Visit&& visit) const {
    for (const auto& shard : shards_) {
      for (const auto& [key, slot] : *shard) visit(key, static_cast<const Entry&>(*slot.entry));
    }
  }
  // The working entry; nullptr: none.
  const Entry* Find(std::string_view key) const {
    const size_t hash = KeyHash{}(key);
    const Shard& shard = *shards_[ShardOf(hash)];
    auto it = shard.find(key, hash);
    return it == shard.end() ? nullptr : it->second.entry.get();
  }
  // The entry, owned by the working state: created empty, or copied first if a snapshot
  // shares it. The key counts as changed.
  Entry& Own(std::string_view key) {
    const size_t hash = KeyHash{}(key);
    Shard& shard = cow::Own(shards_[ShardOf(hash)]);
    auto it = shard.find(key, hash);
    if (it == shard.end()) it = shard.emplace(std::string(key), Slot{}).first;
    Slot& slot = it->second;
    if (slot.changed != epoch_) {
      slot.changed = epoch_;
      changed_.emplace_back(key);
    }
    return cow::Own(slot.entry);
  }
  // Drops the entry, if any. The key counts as changed.
  void Erase(std::string_view key) {
    const size_t hash = KeyHash{}(key);
    Shard& shard = cow::Own(shards_[ShardOf(hash)]);
    auto it = shard.find(key, hash);
    if (it == shard.end()) return;
    // Listed once per epoch while it has a slot; a key erased and owned again in one epoch
    // may be listed twice (ChangedKeys removes repeats).
    if (it->second.changed != epoch_) changed_.emplace_back(key);
    shard.erase(it);
  }
  // The table as it is now, for readers; forgets the changed keys.
  Frozen Freeze() {
    Frozen f;
    std::copy(shards_.begin(), shards_.end(), f.shards.begin());
    ForgetChanges();
    return f;
  }
  // Keys changed since the last Freeze (or ForgetChanges), sorted.
  std::vector<std::string> ChangedKeys() const {
    std::vector<std::string> keys = changed_;
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    return keys;
  }
  // What Load restored is not a change (KeyedTable::Load).
  void ForgetChanges() {
    changed_.clear();
    ++epoch_;
  }
  void Clear() {
    for (auto& s : shards_) s = std::make_shared<Shard>();
    ForgetChanges();
  }

 private:
  std::array<std::shared_ptr<Shard>, kShards> shards_;
  std::vector<std::string> changed_;  // in the current epoch, each once (but see Erase)
  uint64_t epoch_ = 1;
};

// Pairs of keys (a GP and a patient, a school and a class) whose persisted entry a batch
// changed, with repeats: appending is cheaper than a hash set of tens of thousands of
// keys; Drain sorts them out. The repeats are dropped whenever the marks double (Mark), so
// that what is held stays within twice the distinct pairs however long between two Drains
// (a catch-up from scratch drains once, at its end). `Second` holds the second key
// (std::string, or a type that holds it inline, converting explicitly to std::string_view).
template <class Second>
class DirtyPairs {
 public:
  void Mark(std::string_view first, std::string_view second) {
    if (!marked_.empty() && marked_.back().first == first && std::string_view(marked_.back().second) == second) {
      return;
    }
    if (marked_.size() >= compact_at_) Compact();
    const uint64_t hash = KeyHash{}(first) * 0x9e3779b97f4a7c15ull ^ KeyHash{}(second);
    marked_.push_back({std::string(first), Second(second), hash});
  }
  // Calls visit(first, second) once for each distinct pair marked, in no particular
  // order, then forgets them all.
  template <class Visit>
  void Drain(Visit&& visit) {
    Distinct([&](uint32_t at) {
      visit(std::string_view(marked_[at].first), std::string_view(marked_[at].second));
    });
    marked_.clear();
    compact_at_ = kCompactFrom;
  }
  void Clear() {
    marked_.clear();
    compact_at_ = kCompactFrom;
  }
  // With nothing marked, gives the buffers back (they grow with the most marks between two
  // Drains: a catch-up writing every 2^17 events, BatchPipeline::Defer).
  void ReleaseBuffers() {
    if (!marked_.empty()) return;
    std::vector<Marked>().swap(marked_);
    std::vector<std::pair<uint64_t, uint32_t>>().swap(order_);
  }
  // Marks held (repeats included).
  size_t size() const { return marked_.size(); }

 private:
  struct Marked {
    std::string first;
    Second second;
    uint64_t hash;  // of both keys: Drain sorts (hash, index) pairs, not these
  };
  // Marks held before the repeats are first dropped: more than a batch of the live runner
  // marks, so that only long deferrals pay for it.
  static constexpr size_t kCompactFrom = size_t{1} << 16;

  // Calls take(index) for the first mark of each distinct pair, in hash order.
  template <class Take>
  void Distinct(Take&& take) {
    // Equal pairs have equal hashes, so they end up in one run of the sorted order, where
    // the first of each is taken.
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
      take(at);
    }
  }
  // Keeps one mark of each distinct pair; the next compaction when they have doubled.
  void Compact() {
    std::vector<uint32_t> firsts;  // taken first: Distinct compares the marks as it goes
    Distinct([&](uint32_t at) { firsts.push_back(at); });
    std::vector<Marked> kept;
    kept.reserve(firsts.size());
    for (const uint32_t at : firsts) kept.push_back(std::move(marked_[at]));
    marked_.swap(kept);
    compact_at_ = std::max(kCompactFrom, 2 * marked_.size());
  }

  std::vector<Marked> marked_;
  std::vector<std::pair<uint64_t, uint32_t>> order_;  // Drain's scratch
  size_t compact_at_ = kCompactFrom;
};

}  // namespace caseledger::projections::cow
