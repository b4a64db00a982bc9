// Current person states, kept so that a read or a command folds a person's stream only
// when the stream moved on: each lookup checks the stream's version in the store (one
// point read) and refolds when it differs. Erasure appends an event, so an erased
// person's cached state is never served after it.
//
// Bounded: when full, a shard is emptied (people read often come back at once).
// Thread safety: Current() may be called from any thread.
#pragma once

#include "domain/error.h"
#include "domain/person.h"
#include "eventstore/event_store.h"

#include <array>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace caseledger::api {

class PersonCache {
 public:
  explicit PersonCache(size_t capacity = 200'000) : per_shard_(capacity / kShards + 1) {}

  // The person's state as of the store's current version of its stream (unregistered
  // state for an unknown id; never cached).
  domain::Result<std::shared_ptr<const domain::PersonState>> Current(const eventstore::EventStore& store,
                                                                    const std::string& person_id);

 private:
  static constexpr size_t kShards = 16;
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, std::shared_ptr<const domain::PersonState>> people;
  };
  size_t per_shard_;
  std::array<Shard, kShards> shards_;
};

}  // namespace caseledger::api
