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
  std::shared_ptr<const domain::PersonState> behind;  // a cached state the stream moved past
  if (*version > 0) {
    std::lock_guard lock(shard.mu);
    auto it = shard.people.find(person_id);
    if (it != shard.people.end() && it->second.state->version == *version) {
      it->second.checked_at = std::max(it->second.checked_at, position);
      return it->second.state;
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
  return state;
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
