#include "api/person_cache.h"

#include "api/command_service.h"
#include "domain/event_codec.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <optional>

namespace caseledger::api {

// A thread's own copies of the entries it read: touched by that thread only.
struct PersonCache::Front {
  // A person id held inline, compared and hashed as four words: a string key was a heap
  // block of its own to reach on every hit.
  struct Id {
    uint64_t words[4] = {};  // the id's bytes, zero-padded, and its size in the last byte
    bool operator==(const Id& o) const {
      return ((words[0] ^ o.words[0]) | (words[1] ^ o.words[1]) | (words[2] ^ o.words[2]) | (words[3] ^ o.words[3])) == 0;
    }
  };
  struct IdHash {
    size_t operator()(const Id& id) const noexcept {
      // Mixed again by the map (not marked avalanching).
      return (id.words[0] * 0x9E3779B97F4A7C15ull) ^ (id.words[1] * 0xC2B2AE3D27D4EB4Full) ^
             (id.words[2] * 0x165667B19E3779F9ull) ^ id.words[3];
    }
  };
  // nullopt for an id too long to hold inline.
  static std::optional<Id> MakeId(const std::string& person_id) {
    if (person_id.size() > kFrontIdSize) return std::nullopt;
    Id id;
    std::memcpy(id.words, person_id.data(), person_id.size());
    const auto size = static_cast<unsigned char>(person_id.size());
    std::memcpy(reinterpret_cast<char*>(id.words) + sizeof id.words - 1, &size, 1);
    return id;
  }
  struct Entry {
    std::shared_ptr<const domain::PersonState> state;
    uint64_t checked_at = 0;  // as the shard's: the committed position `state` is current at
    RenderKey render_key;
    // The answer of `state` under `render_key`, or null: this thread's copy of the one the
    // shard handed out, or the one this thread rendered and kept (Keep).
    std::shared_ptr<const std::string> rendered;
    Derived derived;  // of `state`: emptied with the entry when it takes another state
  };
  uint64_t owner = 0;  // the id_ of the cache these entries are from; 0: none yet
  boost::unordered_flat_map<Id, Entry, IdHash> people;
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
  const std::optional<Front::Id> id = Front::MakeId(person_id);
  Front::Entry* entry = nullptr;
  if (id) {
    if (auto it = front.people.find(*id); it != front.people.end()) {
      entry = &it->second;
      if (entry->checked_at == position && entry->rendered && entry->render_key == key) {
        return Seen{entry->state.get(), entry->rendered, nullptr, &entry->derived};
      }
    }
  }
  uint64_t checked_at = 0;
  auto found = Lookup(store, person_id, &key, &checked_at);
  if (!found) return found.error();
  if (!found->state->registered || !id) {
    const domain::PersonState* state = found->state.get();
    return Seen{state, std::move(found->rendered), std::move(found->state)};
  }
  // This thread's copy of the answer: the one it holds while the state and key are the ones
  // it was made for (the shard's position moved on, not the person), else a fresh copy.
  std::shared_ptr<const std::string> rendered;
  if (found->rendered) {
    if (entry && entry->rendered && entry->state == found->state && entry->render_key == key) {
      rendered = std::move(entry->rendered);
    } else {
      rendered = std::make_shared<const std::string>(*found->rendered);
    }
  }
  if (!entry) {
    if (front.people.size() >= kFrontCapacity) front.people.clear();
    entry = &front.people[*id];
  }
  // What was derived from the state stays while the entry holds the same state.
  const Derived derived = entry->state == found->state ? entry->derived : Derived{};
  *entry = Front::Entry{std::move(found->state), checked_at, key, std::move(rendered), derived};
  return Seen{entry->state.get(), entry->rendered, nullptr, &entry->derived};
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
  if (const std::optional<Front::Id> id = Front::MakeId(person_id)) {
    if (auto it = front.people.find(*id); it != front.people.end() && it->second.state.get() == state) {
      it->second.render_key = key;
      it->second.rendered = rendered;
    }
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
