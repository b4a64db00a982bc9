#include "api/grant_table.h"

#include "api/api_logger.h"
#include "domain/event_codec.h"

namespace caseledger::api {

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
  while (version_ < *version) {
    auto events = store_.ReadStream(kUsersStream, version_ + 1, 4096);
    if (!events || events->empty()) {
      ApiLog()->error("cannot read the users stream: {}", events ? "no events" : events.error().message);
      return;
    }
    for (const auto& env : *events) {
      auto event = domain::Decode(env.type, env.schema_version, env.body, env.personal);
      if (!event) throw std::runtime_error("undecodable grant at position " + std::to_string(env.position));
      fold_.Apply(env, *event);
      version_ = env.version;
    }
  }
}

domain::GrantSet GrantTable::For(const std::string& subject) {
  // The position before the stream version: every append at or below it is visible to
  // the point read. While it has not moved, nothing was appended, so no grant changed and
  // the point read is skipped. The read itself is done before the lock, so requests do
  // not queue behind each other's reads.
  const uint64_t position = store_.CommittedPosition();
  std::optional<uint64_t> version;
  if (position != checked_at_.load(std::memory_order_acquire)) version = StoredVersion();
  std::lock_guard lock(mu_);
  if (version) {
    Refresh(version);
    if (version_ >= *version && position > checked_at_.load(std::memory_order_relaxed)) {
      checked_at_.store(position, std::memory_order_release);
    }
  }
  auto it = fold_.users.find(subject);
  return it == fold_.users.end() ? domain::GrantSet{} : it->second;
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
