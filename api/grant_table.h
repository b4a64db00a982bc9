// The grants of every user, folded from the `users` stream and kept current: every lookup
// first checks the stream's version (unless the store's committed position has not moved
// since the last check), so a grant or revocation written by any route takes effect on the
// next request (docs/security.md).
//
// While the fold has not changed and holds the stream up to the store's position (the
// position has not moved, or the stream's version read at it is no newer than the fold's:
// an append to another stream), a thread's look-up of the subject it looked up last is
// answered from what the thread kept of it, without the table's lock: its own copy of the
// grants, so that the copy a request holds is counted in memory no other thread writes.
// (The lock and the shared grants' reference count were cache lines both I/O threads
// wrote on every request.)
//
// Thread safety: For() may be called from any thread.
#pragma once

#include "api/grants.h"
#include "domain/access.h"
#include "eventstore/event_store.h"

#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace caseledger::api {

inline constexpr char kUsersStream[] = "users";

class GrantTable {
 public:
  explicit GrantTable(const eventstore::EventStore& store);

  // The grants `subject` holds now. On a store read error the last known grants are used
  // and the error is logged.
  domain::GrantSet For(const std::string& subject);
  // Every user with at least one grant, by subject.
  std::unordered_map<std::string, domain::GrantSet> All();

 private:
  // The users stream's version in the store; nullopt (logged) on a read error.
  std::optional<uint64_t> StoredVersion() const;
  struct KeptGrants;
  // Folds the stream up to `version` (nothing when nullopt). REQUIRES: mu_ held.
  void Refresh(std::optional<uint64_t> version);
  // Under the lock: folds up to `version`, notes `position` as checked when the fold
  // reached it, and answers `subject` from `kept`, made again if the fold changed.
  domain::GrantSet Refreshed(const std::string& subject, uint64_t position, std::optional<uint64_t> version,
                             KeptGrants& kept);
  // Moves checked_at_ forward to `position` (never back).
  void MarkChecked(uint64_t position);

  const eventstore::EventStore& store_;
  const uint64_t id_;  // unique per table, never reused: tells whose a thread's kept grants are
  std::mutex mu_;
  // The stream's version the fold holds (written under mu_, after the fold; read without it).
  std::atomic<uint64_t> version_{0};
  // Moved (under mu_) whenever fold_ changes; read without it.
  std::atomic<uint64_t> generation_{0};
  // The committed position at which version_ was last known to be the stream's version
  // (written under mu_, read without it).
  std::atomic<uint64_t> checked_at_{0};
  UsersFold fold_;  // grants in force (and requests pending a second admin: api/grants.h)
};

}  // namespace caseledger::api
