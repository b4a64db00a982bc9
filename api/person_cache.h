// Current person states, kept so that a read or a command folds a person's stream only
// when the stream moved on: a lookup checks the stream's version in the store (one point
// read) and refolds when it differs. The point read is skipped while the store's committed
// position has not moved since the entry was last confirmed: nothing was appended to any
// stream since, so nothing was appended to this one. Erasure appends an event, so an
// erased person's cached state is never served after it.
//
// Each entry also keeps the last JSON answer rendered from its state (Read() hands it out
// with the state, Keep() stores one), so that people read again and again are not rendered
// again while neither they, the rules nor the day changed.
//
// A query's look-up (Read) is first made in the calling thread's own copy of the entries it
// read before (its front): a hit takes no lock and writes no memory another thread reads
// (the shard's lock, the entry, the states' reference counts were cache lines moved between
// the I/O threads on every query). A front entry is served on the same rule as a shard's:
// only while the store's committed position is the one at which its state was known
// current; otherwise, or when it has no answer under the key, the shard is asked and the
// front entry replaced. A front keeps its own copy of each answer (made when the answer
// first comes from the shard or Keep), so that the reference a query's response holds on
// it until written is counted in memory no other thread writes; its ids are held inline
// (a person id is 26 bytes; a longer id is read from the shard alone).
//
// Bounded in bytes (a share of the server's memory budget: serving/memory_budget.h): the
// shards together take three quarters of the capacity, the threads' fronts together a
// quarter. An entry counts its state, its answer, its key and its slot in the table as
// the allocator hands them out (eventstore::AllocatedBytes), so that the bound holds
// however long each person's history grows. When an entry would take a shard past its
// share, the shard is emptied (people read often come back at once); when it would take
// the fronts past theirs, the reading thread's front is emptied, and an entry that still
// does not fit is not kept in the front. A front also holds kFrontCapacity entries at
// most. A state held by a shard and by fronts counts in each (Bytes() is an upper bound;
// a front's states may outlive their shard entry until the front lets them go).
// Thread safety: every method may be called from any thread.
#pragma once

#include "domain/error.h"
#include "domain/person.h"
#include "eventstore/event_store.h"

#include <array>
#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <boost/unordered/unordered_flat_map.hpp>

namespace caseledger::api {

class PersonCache {
 public:
  // `capacity_bytes`: what the shards and the fronts may hold together (above).
  explicit PersonCache(size_t capacity_bytes = kDefaultCapacityBytes);
  static constexpr size_t kDefaultCapacityBytes = size_t{64} << 20;
  size_t capacity_bytes() const { return capacity_bytes_; }
  // What the shards and the threads' fronts hold now, as counted above; at most
  // capacity_bytes().
  size_t Bytes() const;

  // What a rendered answer depends on besides the state itself.
  struct RenderKey {
    const void* rules = nullptr;  // the rule book the answer used
    uint64_t rules_position = 0;
    int32_t day = 0;  // the date the answer was rendered for
    bool operator==(const RenderKey&) const = default;
  };
  struct Found {
    std::shared_ptr<const domain::PersonState> state;
    // The answer kept for `state` under the key asked for; null when none is.
    std::shared_ptr<const std::string> rendered;
  };
  // A short text a caller derives from a state alone and from data that outlives the
  // cache (the ASL of the person's residence, from the reference data), kept in the front
  // entry beside the state while the entry holds that state: a hit reads it from the cache
  // line it already touched, where the derivation was a look-up in a table of every
  // municipality (cache misses on every query).
  struct Derived {
    const void* from = nullptr;  // what it was derived from; null: nothing kept
    uint8_t size = 0;
    char text[15] = {};
    // The kept text when it was derived from `source`.
    std::optional<std::string_view> Get(const void* source) const {
      if (from != source || from == nullptr) return std::nullopt;
      return std::string_view(text, size);
    }
    void Set(const void* source, std::string_view v) {
      if (v.size() > sizeof text) return;  // not kept: derived again next time
      std::memcpy(text, v.data(), v.size());
      size = static_cast<uint8_t>(v.size());
      from = source;
    }
  };
  // Read()'s answer, held by the calling thread's front: `state` and `rendered` are good on
  // that thread until its next call of Read() or Keep() (on any cache).
  struct Seen {
    const domain::PersonState* state = nullptr;
    // The answer kept for `state` under the key asked for; null when none is. From the
    // front, it is this thread's own copy, never one another thread's Read hands out.
    std::shared_ptr<const std::string> rendered;
    // Holds `state` when the calling thread's front does not (an unknown id, one too long
    // for a front); null otherwise.
    std::shared_ptr<const domain::PersonState> unkept;
    // The front entry's place for what is derived from `state` (above); null when `state`
    // is not held by a front. Good as long as `state`.
    Derived* derived = nullptr;
  };
  static constexpr size_t kFrontCapacity = 4096;
  static constexpr size_t kFrontIdSize = 31;  // longer ids are not kept in a front

  // The person's state as of the store's current version of its stream (unregistered
  // state for an unknown id; never cached).
  domain::Result<std::shared_ptr<const domain::PersonState>> Current(const eventstore::EventStore& store,
                                                                    const std::string& person_id);
  // Current()'s state and, in the same look-up, the answer kept for it under `key`; from the
  // calling thread's front when it holds them (see above).
  domain::Result<Seen> Read(const eventstore::EventStore& store, const std::string& person_id,
                            const RenderKey& key);

  // Keeps `state` (the person as a command just left it, at the stream version it wrote)
  // unless a newer one is kept. The next lookup confirms its version with one point read.
  // The state is shared as it is: nobody may change it after.
  void Remember(const std::string& person_id, std::shared_ptr<const domain::PersonState> state);
  void Remember(const std::string& person_id, domain::PersonState state) {
    Remember(person_id, std::make_shared<const domain::PersonState>(std::move(state)));
  }

  // Keeps `rendered`, the answer made of `state` (a state Current() or Read() returned)
  // under `key`, while `state` is the person's kept state (in the shard, and a copy in the
  // calling thread's front; other threads' fronts copy it from the shard at their next read).
  void Keep(const std::string& person_id, const domain::PersonState* state, const RenderKey& key,
            std::shared_ptr<const std::string> rendered);

 private:
  static constexpr size_t kShards = 16;
  struct Entry {
    std::shared_ptr<const domain::PersonState> state;
    uint64_t checked_at = 0;  // committed position at which `state` was last known current
    RenderKey render_key;
    std::shared_ptr<const std::string> rendered;  // of `state` under `render_key`, or null
    size_t bytes = 0;  // the entry's, counted in its shard's
  };
  struct Shard {
    std::mutex mu;
    // Open addressing: a look-up probes one group of slots where a node map chased a
    // bucket and a node.
    boost::unordered_flat_map<std::string, Entry> people;
    size_t bytes = 0;  // of its entries (Entry::bytes)
  };
  struct Front;
  // Keeps `entry` for `person_id` in `shard` (mu held), the shard emptied first when the
  // entry would take it past its share; `replaced` (may be null) is the entry it replaces.
  void Put(Shard& shard, const std::string& person_id, Entry* replaced, Entry entry);
  // Counts `entry` of `shard` (mu held) at `bytes` from now on; false, with the shard
  // emptied, when that would take the shard past its share.
  bool Grow(Shard& shard, Entry& entry, size_t bytes);
  void Empty(Shard& shard);
  // `checked_at`: set to the committed position as of which the state found is current.
  domain::Result<Found> Lookup(const eventstore::EventStore& store, const std::string& person_id,
                               const RenderKey* key, uint64_t* checked_at = nullptr);
  // The calling thread's front, emptied first when it last served another cache.
  Front& ThisThreadsFront() const;
  Shard& ShardOf(const std::string& person_id) { return shards_[std::hash<std::string>{}(person_id) % kShards]; }

  const size_t capacity_bytes_;
  const size_t per_shard_bytes_;  // three quarters of the capacity, split between the shards
  const size_t fronts_bytes_;     // the rest, for every thread's front together
  const uint64_t id_;  // unique per cache, never reused: tells a thread's front whose it is
  std::array<Shard, kShards> shards_;
  std::atomic<size_t> shards_held_{0};  // the shards' bytes together, for Bytes()
  // The fronts' bytes together: shared with each front serving this cache, which gives its
  // bytes back when it is emptied, even after the cache is gone (a thread's front outlives it).
  std::shared_ptr<std::atomic<size_t>> fronts_held_ = std::make_shared<std::atomic<size_t>>(0);
};

}  // namespace caseledger::api
