#include "api/grant_table.h"

#include "api/api_logger.h"
#include "domain/event_codec.h"
#include "domain/events.h"

namespace caseledger::api {

// What a thread kept of its last look-up (For).
struct GrantTable::KeptGrants {
  uint64_t table = 0;       // the table's id_; 0: nothing kept
  uint64_t generation = 0;  // the table's generation_ the grants were read at
  std::string subject;
  domain::GrantSet grants;  // a copy of the thread's own (OwnCopy)
};

namespace {

std::atomic<uint64_t> next_table_id{1};

// The same grants in a vector of their own (GrantSet shares it between copies).
domain::GrantSet OwnCopy(const domain::GrantSet& shared) {
  domain::GrantSet copy;
  for (const domain::Grant& g : shared.grants()) {
    domain::AccessGranted e;
    e.role = domain::ToString(g.role);
    e.scope = g.scope;
    copy.Apply(e);
  }
  return copy;
}

}  // namespace

GrantTable::GrantTable(const eventstore::EventStore& store)
    : store_(store), id_(next_table_id.fetch_add(1, std::memory_order_relaxed)) {}

std::optional<uint64_t> GrantTable::StoredVersion() const {
  auto version = store_.StreamVersion(kUsersStream);
  if (!version) {
    ApiLog()->error("cannot read the users stream version: {}", version.error().message);
    return std::nullopt;
  }
  return *version;
}

void GrantTable::Refresh(std::optional<uint64_t> version) {
  if (!version) return;
  while (version_.load(std::memory_order_relaxed) < *version) {
    auto events = store_.ReadStream(kUsersStream, version_.load(std::memory_order_relaxed) + 1, 4096);
    if (!events || events->empty()) {
      ApiLog()->error("cannot read the users stream: {}", events ? "no events" : events.error().message);
      return;
    }
    for (const auto& env : *events) {
      auto event = domain::Decode(env.type, env.schema_version, env.body, env.personal);
      if (!event) throw std::runtime_error("undecodable grant at position " + std::to_string(env.position));
      // Before the change: a look-up that reads the old generation after it is not
      // answered from grants kept before it.
      generation_.fetch_add(1, std::memory_order_release);
      fold_.Apply(env, *event);
      // After the fold: a reader that sees this version without the lock sees the
      // generation moved for it (For).
      version_.store(env.version, std::memory_order_release);
    }
  }
}

domain::GrantSet GrantTable::For(const std::string& subject) {
  // The position before the stream version: every append at or below it is visible to
  // the point read. While it has not moved, nothing was appended, so no grant changed and
  // the point read is skipped. The read itself is done before the lock, so requests do
  // not queue behind each other's reads.
  //
  // A thread's kept grants answer while the fold has not changed since they were read from
  // it (its generation) and the fold holds the stream up to the position: the one the
  // table was last checked at, or the stream's version now is no newer than the fold's.
  // The second is every command's case: each moves the position, not the users stream,
  // and a copy made again for each (OwnCopy, one vector per grant) was ~11 k instructions
  // of a command's ~72 k on its I/O thread.
  thread_local KeptGrants kept;
  const uint64_t position = store_.CommittedPosition();
  std::optional<uint64_t> version;
  if (position != checked_at_.load(std::memory_order_acquire)) {
    version = StoredVersion();
    if (version && *version <= version_.load(std::memory_order_acquire)) {
      MarkChecked(position);
      version.reset();  // nothing to fold
    } else {
      return Refreshed(subject, position, version, kept);
    }
  }
  if (kept.table == id_ && kept.generation == generation_.load(std::memory_order_acquire) &&
      kept.subject == subject) {
    return kept.grants;
  }
  return Refreshed(subject, position, version, kept);
}

void GrantTable::MarkChecked(uint64_t position) {
  // Only forward: a thread that read an older position may come second.
  uint64_t at = checked_at_.load(std::memory_order_relaxed);
  while (position > at && !checked_at_.compare_exchange_weak(at, position, std::memory_order_release,
                                                             std::memory_order_relaxed)) {
  }
}

domain::GrantSet GrantTable::Refreshed(const std::string& subject, uint64_t position,
                                       std::optional<uint64_t> version, KeptGrants& kept) {
  std::lock_guard lock(mu_);
  if (version) {
    Refresh(version);
    if (version_.load(std::memory_order_relaxed) >= *version) MarkChecked(position);
  }
  const uint64_t generation = generation_.load(std::memory_order_relaxed);
  if (kept.table == id_ && kept.generation == generation && kept.subject == subject) return kept.grants;
  auto it = fold_.users.find(subject);
  kept.table = id_;
  kept.generation = generation;
  kept.subject = subject;
  kept.grants = it == fold_.users.end() ? domain::GrantSet{} : OwnCopy(it->second);
  return kept.grants;
}

std::unordered_map<std::string, domain::GrantSet> GrantTable::All() {
  auto version = StoredVersion();
  std::lock_guard lock(mu_);
  Refresh(version);
  std::unordered_map<std::string, domain::GrantSet> out;
  for (const auto& [user, set] : fold_.users) {
    if (!set.empty()) out.emplace(user, set);
  }
  return out;
}

}  // namespace caseledger::api
