#include "api/person_cache.h"

#include "api/command_service.h"
#include "domain/event_codec.h"

#include <algorithm>
#include <atomic>
#include <optional>

namespace caseledger::api {

// A thread's own copies of the entries it read: touched by that thread only.
struct PersonCache::Front {
  struct Entry {
    std::shared_ptr<const domain::PersonState> state;
    uint64_t checked_at = 0;  // as the shard's: the committed position `state` is current at
    RenderKey render_key;
    std::shared_ptr<const std::string> rendered;  // of `state` under `render_key`, or null
  };
  uint64_t owner = 0;  // the id_ of the cache these entries are from; 0: none yet
  boost::unordered_flat_map<std::string, Entry> people;
};

namespace {

std::atomic<uint64_t> next_cache_id{1};

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

PersonCache::PersonCache(size_t capacity) : per_shard_(capacity / kShards + 1), id_(next_cache_id.fetch_add(1)) {}

PersonCache::Front& PersonCache::ThisThreadsFront() const {
  thread_local Front front;
  if (front.owner != id_) {
    front.people.clear();
    front.owner = id_;
  }
  return front;
}

domain::Result<std::shared_ptr<const domain::PersonState>> PersonCache::Current(
    const eventstore::EventStore& store, const std::string& person_id) {
  auto found = Lookup(store, person_id, nullptr);
  if (!found) return found.error();
  return std::move(found->state);
}

domain::Result<PersonCache::Seen> PersonCache::Read(const eventstore::EventStore& store,
                                                    const std::string& person_id, const RenderKey& key) {
  // The position first, as in Lookup: a front entry checked at it is current.
  const uint64_t position = store.CommittedPosition();
  Front& front = ThisThreadsFront();
  if (auto it = front.people.find(person_id); it != front.people.end()) {
    const Front::Entry& e = it->second;
    if (e.checked_at == position && e.rendered && e.render_key == key) return Seen{e.state.get(), e.rendered.get(), nullptr};
  }
  uint64_t checked_at = 0;
  auto found = Lookup(store, person_id, &key, &checked_at);
  if (!found) return found.error();
  if (!found->state->registered) return Seen{found->state.get(), nullptr, std::move(found->state)};
  if (front.people.size() >= kFrontCapacity) front.people.clear();
  Front::Entry& slot = front.people[person_id];
  slot = Front::Entry{std::move(found->state), checked_at, key, std::move(found->rendered)};
  return Seen{slot.state.get(), slot.rendered.get(), nullptr};
}

domain::Result<PersonCache::Found> PersonCache::Lookup(const eventstore::EventStore& store,
                                                       const std::string& person_id, const RenderKey* key,
                                                       uint64_t* checked_at) {
  // Read before the stream version: every append at or below `position` is already
  // visible to the point read (the watermark moves only after the write returned).
  const uint64_t position = store.CommittedPosition();
  if (checked_at) *checked_at = position;
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

void PersonCache::Keep(const std::string& person_id, const domain::PersonState* state, const RenderKey& key,
                       std::shared_ptr<const std::string> rendered) {
  Front& front = ThisThreadsFront();
  if (auto it = front.people.find(person_id); it != front.people.end() && it->second.state.get() == state) {
    it->second.render_key = key;
    it->second.rendered = rendered;
  }
  Shard& shard = ShardOf(person_id);
  std::lock_guard lock(shard.mu);
  auto it = shard.people.find(person_id);
  if (it != shard.people.end() && it->second.state.get() == state) {
    it->second.render_key = key;
    it->second.rendered = std::move(rendered);
  }
}

}  // namespace caseledger::api
