#include "api/person_cache.h"

#include "api/command_service.h"

#include <algorithm>

namespace caseledger::api {

domain::Result<std::shared_ptr<const domain::PersonState>> PersonCache::Current(
    const eventstore::EventStore& store, const std::string& person_id) {
  // Read before the stream version: every append at or below `position` is already
  // visible to the point read (the watermark moves only after the write returned).
  const uint64_t position = store.CommittedPosition();
  Shard& shard = ShardOf(person_id);
  {
    std::lock_guard lock(shard.mu);
    auto it = shard.people.find(person_id);
    if (it != shard.people.end() && it->second.checked_at == position) return it->second.state;
  }
  auto version = store.StreamVersion(domain::PersonStream(person_id));
  if (!version) return domain::Error::Invalid("id", "cannot read the person's stream: " + version.error().message);
  if (*version > 0) {
    std::lock_guard lock(shard.mu);
    auto it = shard.people.find(person_id);
    if (it != shard.people.end() && it->second.state->version == *version) {
      it->second.checked_at = std::max(it->second.checked_at, position);
      return it->second.state;
    }
  }
  auto folded = LoadPerson(store, person_id);
  if (!folded) return folded.error();
  auto state = std::make_shared<const domain::PersonState>(std::move(*folded));
  if (state->registered) {
    std::lock_guard lock(shard.mu);
    if (shard.people.size() >= per_shard_) shard.people.clear();
    Entry& slot = shard.people[person_id];
    // Keep the newer of two racing folds.
    if (!slot.state || slot.state->version < state->version) {
      slot = Entry{state, position, {}, nullptr};
    } else if (slot.state->version == state->version) {
      slot.checked_at = std::max(slot.checked_at, position);
    }
  }
  return state;
}

std::shared_ptr<const std::string> PersonCache::Rendered(
    const std::string& person_id, const std::shared_ptr<const domain::PersonState>& state, const RenderKey& key,
    const std::function<std::string()>& render) {
  Shard& shard = ShardOf(person_id);
  {
    std::lock_guard lock(shard.mu);
    auto it = shard.people.find(person_id);
    if (it != shard.people.end() && it->second.state == state && it->second.rendered &&
        it->second.render_key == key) {
      return it->second.rendered;
    }
  }
  auto body = std::make_shared<const std::string>(render());
  std::lock_guard lock(shard.mu);
  auto it = shard.people.find(person_id);
  if (it != shard.people.end() && it->second.state == state) {
    it->second.render_key = key;
    it->second.rendered = body;
  }
  return body;
}

}  // namespace caseledger::api
