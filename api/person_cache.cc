#include "api/person_cache.h"

#include "api/command_service.h"
#include "domain/event_codec.h"

#include <algorithm>
#include <optional>

namespace caseledger::api {
namespace {

// `cached` continued with the events of its stream after its version, as a fold from the
// start would apply them; nullopt when one of them needs the whole fold (an erasure, a
// personal part that did not open, an undecodable event) or the read failed.
std::optional<domain::PersonState> Continue(const eventstore::EventStore& store, const std::string& person_id,
                                            const domain::PersonState& cached) {
  auto events = store.ReadStream(domain::PersonStream(person_id), cached.version + 1, 100'000);
  if (!events || events->empty() || events->front().version != cached.version + 1) return std::nullopt;
  domain::PersonState state = cached;
  for (const auto& env : *events) {
    if (env.type == domain::PersonalDataErased::kType || env.personal_form != domain::PersonalForm::kOpen) return std::nullopt;
    auto event = domain::Decode(env.type, env.schema_version, env.body, env.personal);
    if (!event) return std::nullopt;
    domain::Evolve(state, *event);
    state.version = env.version;
  }
  return state;
}

}  // namespace

domain::Result<std::shared_ptr<const domain::PersonState>> PersonCache::Current(
    const eventstore::EventStore& store, const std::string& person_id) {
  auto found = Lookup(store, person_id, nullptr);
  if (!found) return found.error();
  return std::move(found->state);
}

domain::Result<PersonCache::Found> PersonCache::Read(const eventstore::EventStore& store,
                                                     const std::string& person_id, const RenderKey& key) {
  return Lookup(store, person_id, &key);
}

domain::Result<PersonCache::Found> PersonCache::Lookup(const eventstore::EventStore& store,
                                                       const std::string& person_id, const RenderKey* key) {
  // Read before the stream version: every append at or below `position` is already
  // visible to the point read (the watermark moves only after the write returned).
  const uint64_t position = store.CommittedPosition();
  Shard& shard = ShardOf(person_id);
  auto kept = [key](const Entry& e) -> Found {
    const bool answer = key && e.rendered && e.render_key == *key;
    return Found{e.state, answer ? e.rendered : nullptr};
  };
  {
    std::lock_guard lock(shard.mu);
    auto it = shard.people.find(person_id);
    if (it != shard.people.end() && it->second.checked_at == position) return kept(it->second);
  }
  auto version = store.StreamVersion(domain::PersonStream(person_id));
  if (!version) return domain::Error::Invalid("id", "cannot read the person's stream: " + version.error().message);
  std::shared_ptr<const domain::PersonState> behind;  // a cached state the stream moved past
  if (*version > 0) {
    std::lock_guard lock(shard.mu);
    auto it = shard.people.find(person_id);
    if (it != shard.people.end() && it->second.state->version == *version) {
      it->second.checked_at = std::max(it->second.checked_at, position);
      return kept(it->second);
    }
    if (it != shard.people.end() && it->second.state->version < *version) behind = it->second.state;
  }
  // A command appends to the person it read: fold only the new events onto the cached
  // state, not the whole stream again.
  std::optional<domain::PersonState> continued;
  if (behind) continued = Continue(store, person_id, *behind);
  if (!continued) {
    auto folded = LoadPerson(store, person_id);
    if (!folded) return folded.error();
    continued = std::move(*folded);
  }
  auto state = std::make_shared<const domain::PersonState>(std::move(*continued));
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
  return Found{std::move(state), nullptr};
}

void PersonCache::Remember(const std::string& person_id, domain::PersonState state) {
  if (!state.registered) return;
  auto kept = std::make_shared<const domain::PersonState>(std::move(state));
  Shard& shard = ShardOf(person_id);
  std::lock_guard lock(shard.mu);
  if (shard.people.size() >= per_shard_) shard.people.clear();
  Entry& slot = shard.people[person_id];
  // checked_at 0: never taken as current without the point read.
  if (!slot.state || slot.state->version < kept->version) slot = Entry{std::move(kept), 0, {}, nullptr};
}

void PersonCache::Keep(const std::string& person_id, const std::shared_ptr<const domain::PersonState>& state,
                       const RenderKey& key, std::shared_ptr<const std::string> rendered) {
  Shard& shard = ShardOf(person_id);
  std::lock_guard lock(shard.mu);
  auto it = shard.people.find(person_id);
  if (it != shard.people.end() && it->second.state == state) {
    it->second.render_key = key;
    it->second.rendered = std::move(rendered);
  }
}

}  // namespace caseledger::api
