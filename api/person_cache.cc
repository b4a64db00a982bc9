#include "api/person_cache.h"

#include "api/command_service.h"

namespace caseledger::api {

domain::Result<std::shared_ptr<const domain::PersonState>> PersonCache::Current(
    const eventstore::EventStore& store, const std::string& person_id) {
  auto version = store.StreamVersion(domain::PersonStream(person_id));
  if (!version) return domain::Error::Invalid("id", "cannot read the person's stream: " + version.error().message);
  Shard& shard = shards_[std::hash<std::string>{}(person_id) % kShards];
  if (*version > 0) {
    std::lock_guard lock(shard.mu);
    auto it = shard.people.find(person_id);
    if (it != shard.people.end() && it->second->version == *version) return it->second;
  }
  auto folded = LoadPerson(store, person_id);
  if (!folded) return folded.error();
  auto state = std::make_shared<const domain::PersonState>(std::move(*folded));
  if (state->registered) {
    std::lock_guard lock(shard.mu);
    if (shard.people.size() >= per_shard_) shard.people.clear();
    auto& slot = shard.people[person_id];
    // Keep the newer of two racing folds.
    if (!slot || slot->version <= state->version) slot = state;
  }
  return state;
}

}  // namespace caseledger::api
