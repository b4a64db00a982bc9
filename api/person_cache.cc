#include "api/person_cache.h"

#include "api/command_service.h"
#include "domain/event_codec.h"
#include "eventstore/process_memory.h"

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
    size_t bytes = 0;  // the entry's, counted in `held`
  };
  ~Front() { Empty(); }
  // Lets every entry go, and gives their bytes back to the cache's count.
  void Empty() {
    people = {};  // the table's slots too
    if (held) held->fetch_sub(bytes, std::memory_order_relaxed);
    bytes = 0;
  }
  // Counts `add` bytes more and `drop` fewer in the fronts' bytes when that keeps them within
  // `limit`; false (nothing counted) otherwise.
  bool Fits(size_t drop, size_t add, size_t limit) {
    size_t now = held->load(std::memory_order_relaxed);
    do {
      if (now - drop + add > limit) return false;
    } while (!held->compare_exchange_weak(now, now - drop + add, std::memory_order_relaxed));
    bytes = bytes - drop + add;
    return true;
  }
  uint64_t owner = 0;  // the id_ of the cache these entries are from; 0: none yet
  std::shared_ptr<std::atomic<size_t>> held;  // the owner's fronts' bytes (fronts_held_)
  size_t bytes = 0;  // of `people`
  boost::unordered_flat_map<Id, Entry, IdHash> people;
};

namespace {

std::atomic<uint64_t> next_cache_id{1};

// libstdc++'s strings hold up to 15 characters inline.
size_t Heap(const std::string& s) { return s.capacity() > 15 ? eventstore::AllocatedBytes(s.capacity() + 1) : 0; }
template <class T>
size_t Buffer(const std::vector<T>& v) {
  return eventstore::AllocatedBytes(v.capacity() * sizeof(T));
}

// A state made by std::make_shared (its control block beside it) and everything it owns.
size_t StateBytes(const domain::PersonState& s) {
  size_t bytes = eventstore::AllocatedBytes(sizeof(domain::PersonState) + 16);
  bytes += Heap(s.person_id) + Heap(s.residence_istat) + Heap(s.gp_id);
  const domain::Personal& p = s.personal;
  bytes += Heap(p.family_name) + Heap(p.given_names) + Heap(p.tax_code) + Heap(p.birth_date) + Heap(p.address) +
           Heap(p.phone);
  bytes += Buffer(s.enrolments) + Buffer(s.doses) + Buffer(s.swabs) + Buffer(s.measures) + Buffer(s.contacts);
  for (const auto& e : s.enrolments) bytes += Heap(e.school) + Heap(e.class_label);
  for (const auto& w : s.swabs) {
    bytes += Heap(w.swab_id) + Heap(w.reason) + Heap(w.requested_by) + Heap(w.holder_lab) + Heap(w.lab_id);
  }
  for (const auto& m : s.measures) bytes += Heap(m.reason) + Heap(m.source_case);
  for (const auto& c : s.contacts) bytes += Heap(c.contact_of);
  return bytes;
}

// A kept answer (std::make_shared), or 0 for none.
size_t AnswerBytes(const std::string* rendered) {
  return rendered ? eventstore::AllocatedBytes(sizeof(std::string) + 16) + Heap(*rendered) : 0;
}

// A slot of a flat table counted twice: between its growths a table is 7/16 to 7/8 full.
template <class Map>
constexpr size_t kSlotBytes = 2 * sizeof(typename Map::value_type);

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

PersonCache::PersonCache(size_t capacity_bytes)
    : capacity_bytes_(capacity_bytes),
      per_shard_bytes_(capacity_bytes / 4 * 3 / kShards),
      fronts_bytes_(capacity_bytes - per_shard_bytes_ * kShards),
      id_(next_cache_id.fetch_add(1)) {}

size_t PersonCache::Bytes() const {
  return shards_held_.load(std::memory_order_relaxed) + fronts_held_->load(std::memory_order_relaxed);
}

PersonCache::Front& PersonCache::ThisThreadsFront() const {
  thread_local Front front;
  if (front.owner != id_) {
    front.Empty();
    front.owner = id_;
    front.held = fronts_held_;
  }
  return front;
}

void PersonCache::Empty(Shard& shard) {
  shard.people = {};  // the table's slots too
  shards_held_.fetch_sub(shard.bytes, std::memory_order_relaxed);
  shard.bytes = 0;
}

void PersonCache::Put(Shard& shard, const std::string& person_id, Entry* replaced, Entry entry) {
  entry.bytes = kSlotBytes<decltype(shard.people)> + Heap(person_id) + StateBytes(*entry.state) +
                AnswerBytes(entry.rendered.get());
  const size_t drop = replaced ? replaced->bytes : 0;
  if (shard.bytes - drop + entry.bytes > per_shard_bytes_) {
    Empty(shard);
    if (entry.bytes > per_shard_bytes_) return;  // never fits
    replaced = nullptr;
  }
  // What is let go first: the sum Bytes() reads never passes what the shards hold.
  if (replaced) {
    shard.bytes -= replaced->bytes;
    shards_held_.fetch_sub(replaced->bytes, std::memory_order_relaxed);
  }
  shard.bytes += entry.bytes;
  shards_held_.fetch_add(entry.bytes, std::memory_order_relaxed);
  if (replaced) {
    *replaced = std::move(entry);
  } else {
    shard.people.emplace(person_id, std::move(entry));
  }
}

bool PersonCache::Grow(Shard& shard, Entry& entry, size_t bytes) {
  if (shard.bytes - entry.bytes + bytes > per_shard_bytes_) {
    Empty(shard);
    return false;
  }
  shard.bytes = shard.bytes - entry.bytes + bytes;
  if (bytes > entry.bytes) {
    shards_held_.fetch_add(bytes - entry.bytes, std::memory_order_relaxed);
  } else {
    shards_held_.fetch_sub(entry.bytes - bytes, std::memory_order_relaxed);
  }
  entry.bytes = bytes;
  return true;
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
  // What was derived from the state stays while the entry holds the same state.
  const Derived derived = entry && entry->state == found->state ? entry->derived : Derived{};
  const size_t bytes = kSlotBytes<decltype(front.people)> + StateBytes(*found->state) + AnswerBytes(rendered.get());
  if ((!entry && front.people.size() >= kFrontCapacity) || !front.Fits(entry ? entry->bytes : 0, bytes, fronts_bytes_)) {
    // Full: this thread's entries go; one the other threads' leave no room for is not kept.
    front.Empty();
    entry = nullptr;
    if (!front.Fits(0, bytes, fronts_bytes_)) {
      const domain::PersonState* state = found->state.get();
      return Seen{state, std::move(rendered), std::move(found->state)};
    }
  }
  if (!entry) entry = &front.people[*id];
  *entry = Front::Entry{std::move(found->state), checked_at, key, std::move(rendered), derived, bytes};
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
    auto it = shard.people.find(person_id);
    Entry* slot = it != shard.people.end() ? &it->second : nullptr;
    // Keep the newer of two racing folds.
    if (!slot || slot->state->version < state->version) {
      Put(shard, person_id, slot, Entry{state, position, {}, nullptr});
    } else if (slot->state->version == state->version) {
      slot->checked_at = std::max(slot->checked_at, position);
    }
  }
  return Found{std::move(state), nullptr};
}

void PersonCache::Remember(const std::string& person_id, std::shared_ptr<const domain::PersonState> kept) {
  if (!kept->registered) return;
  Shard& shard = ShardOf(person_id);
  std::lock_guard lock(shard.mu);
  auto it = shard.people.find(person_id);
  Entry* slot = it != shard.people.end() ? &it->second : nullptr;
  // checked_at 0: never taken as current without the point read.
  if (!slot || slot->state->version < kept->version) Put(shard, person_id, slot, Entry{std::move(kept), 0, {}, nullptr});
}

void PersonCache::Keep(const std::string& person_id, const domain::PersonState* state, const RenderKey& key,
                       std::shared_ptr<const std::string> rendered) {
  Front& front = ThisThreadsFront();
  if (const std::optional<Front::Id> id = Front::MakeId(person_id)) {
    if (auto it = front.people.find(*id); it != front.people.end() && it->second.state.get() == state) {
      Front::Entry& entry = it->second;
      const size_t bytes = entry.bytes - AnswerBytes(entry.rendered.get()) + AnswerBytes(rendered.get());
      if (front.Fits(entry.bytes, bytes, fronts_bytes_)) {
        entry.bytes = bytes;
        entry.render_key = key;
        entry.rendered = rendered;
      }
    }
  }
  Shard& shard = ShardOf(person_id);
  std::lock_guard lock(shard.mu);
  auto it = shard.people.find(person_id);
  if (it != shard.people.end() && it->second.state.get() == state) {
    Entry& entry = it->second;
    if (!Grow(shard, entry, entry.bytes - AnswerBytes(entry.rendered.get()) + AnswerBytes(rendered.get()))) return;
    entry.render_key = key;
    entry.rendered = std::move(rendered);
  }
}

}  // namespace caseledger::api
