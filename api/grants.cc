#include "api/grants.h"

#include "api/grant_table.h"
#include "domain/event_codec.h"

#include <algorithm>

namespace caseledger::api {
namespace {

std::optional<domain::Grant> GrantOf(const std::string& role, const std::string& scope) {
  auto r = domain::ParseRole(role);
  if (!r) return std::nullopt;
  return domain::Grant{*r, scope};
}

struct UsersAt {
  uint64_t version = 0;
  UsersFold fold;
};

eventstore::StoreResult<UsersAt> Fold(const eventstore::EventStore& store) {
  UsersAt at;
  auto version = store.StreamVersion(kUsersStream);
  if (!version) return version.error();
  at.version = *version;
  // Grant events are few: the whole stream.
  auto events = store.ReadStream(kUsersStream, 1, *version);
  if (!events) return events.error();
  for (const auto& env : *events) {
    auto e = domain::Decode(env.type, env.schema_version, env.body, env.personal);
    if (!e) return eventstore::StoreError{eventstore::StoreErrorCode::kCorruption, "undecodable grant", 0, env.position};
    at.fold.Apply(env, *e);
  }
  return at;
}

std::vector<PendingGrant>::const_iterator FindPending(const UsersFold& f, const std::string& user,
                                                      const domain::Grant& g) {
  return std::find_if(f.pending.begin(), f.pending.end(),
                      [&](const PendingGrant& p) { return p.user == user && p.grant == g; });
}

// Appends one users-stream event at `version` (kWrongExpectedVersion when the stream moved).
eventstore::StoreResult<eventstore::AppendResult> AppendAt(eventstore::EventStore& store, uint64_t version,
                                                           const domain::Event& event, const domain::Actor& actor,
                                                           domain::Timestamp now, std::string correlation = "",
                                                           std::string causation = "") {
  domain::EncodedEvent enc = domain::Encode(event);
  eventstore::AppendRequest append;
  append.stream = kUsersStream;
  append.expected = version == 0 ? eventstore::ExpectedVersion::NoStream() : eventstore::ExpectedVersion::Exactly(version);
  append.actor = actor;
  append.correlation_id = std::move(correlation);
  append.causation_id = std::move(causation);
  append.events.push_back({std::move(enc.type), enc.schema_version, std::move(enc.body), std::move(enc.personal), now});
  return store.Append(append);
}

bool Retry(const eventstore::StoreError& e) { return e.code == eventstore::StoreErrorCode::kWrongExpectedVersion; }

eventstore::StoreError TooBusy() {
  return {eventstore::StoreErrorCode::kWrongExpectedVersion, "the users stream changed too often"};
}

}  // namespace

void UsersFold::Apply(const domain::Envelope& env, const domain::Event& event) {
  const auto* granted = std::get_if<domain::AccessGranted>(&event);
  const auto* revoked = std::get_if<domain::AccessRevoked>(&event);
  if (!granted && !revoked) return;
  const std::string& user = granted ? granted->user : revoked->user;
  auto grant = granted ? GrantOf(granted->role, granted->scope) : GrantOf(revoked->role, revoked->scope);
  if (!grant) return;
  auto drop_pending = [&] {
    std::erase_if(pending, [&](const PendingGrant& p) { return p.user == user && p.grant == *grant; });
  };
  if (granted && env.correlation_id == kGrantRequest) {
    if (!users[user].Holds(grant->role, grant->scope) && FindPending(*this, user, *grant) == pending.end()) {
      pending.push_back({user, *grant, env.actor.id, env.position});
    }
    return;
  }
  drop_pending();
  if (revoked && env.correlation_id == kGrantRequestWithdrawn) return;
  domain::ApplyAccessEvent(event, users);
}

bool ValidSubject(std::string_view subject) {
  if (subject.empty() || subject.size() > 128) return false;
  for (char c : subject) {
    if (c <= ' ' || c > '~') return false;
  }
  return true;
}

bool TakesTwoAdmins(domain::Role role) { return role != domain::Role::kSchool && role != domain::Role::kMayor; }

eventstore::StoreResult<GrantChange> RecordGrant(eventstore::EventStore& store, const std::string& user,
                                                 const domain::Grant& grant, bool revoke,
                                                 const domain::Actor& actor, domain::Timestamp now) {
  for (int attempt = 0; attempt < 8; ++attempt) {
    auto at = Fold(store);
    if (!at) return at.error();
    if (at->fold.users[user].Holds(grant.role, grant.scope) != revoke) {
      return GrantChange{false, store.CommittedPosition()};
    }
    const std::string role = domain::ToString(grant.role);
    domain::Event event = revoke ? domain::Event(domain::AccessRevoked{user, role, grant.scope})
                                 : domain::Event(domain::AccessGranted{user, role, grant.scope});
    auto result = AppendAt(store, at->version, event, actor, now);
    if (result) return GrantChange{true, result->last_position};
    if (!Retry(result.error())) return result.error();
  }
  return TooBusy();
}

eventstore::StoreResult<GrantOutcome> RequestGrant(eventstore::EventStore& store, const std::string& user,
                                                   const domain::Grant& grant, const domain::Actor& actor,
                                                   domain::Timestamp now) {
  const domain::Event event = domain::AccessGranted{user, domain::ToString(grant.role), grant.scope};
  for (int attempt = 0; attempt < 8; ++attempt) {
    auto at = Fold(store);
    if (!at) return at.error();
    if (at->fold.users[user].Holds(grant.role, grant.scope)) {
      return GrantOutcome{GrantStep::kAlreadyHeld, store.CommittedPosition(), ""};
    }
    auto pending = FindPending(at->fold, user, grant);
    GrantOutcome out;
    eventstore::StoreResult<eventstore::AppendResult> result = eventstore::AppendResult{};
    if (!TakesTwoAdmins(grant.role)) {
      out.step = GrantStep::kGranted;
      result = AppendAt(store, at->version, event, actor, now);
    } else if (pending == at->fold.pending.end()) {
      out.step = GrantStep::kRequested;
      out.requested_by = actor.id;
      result = AppendAt(store, at->version, event, actor, now, kGrantRequest);
    } else if (pending->requested_by == actor.id) {
      return GrantOutcome{GrantStep::kStillPending, pending->position, actor.id};
    } else {
      // The second admin: in force, caused by the first admin's request.
      out.step = GrantStep::kGranted;
      out.requested_by = pending->requested_by;
      result = AppendAt(store, at->version, event, actor, now, "", std::to_string(pending->position));
    }
    if (result) {
      out.position = result->last_position;
      return out;
    }
    if (!Retry(result.error())) return result.error();
  }
  return TooBusy();
}

eventstore::StoreResult<GrantChange> WithdrawGrantRequest(eventstore::EventStore& store, const std::string& user,
                                                          const domain::Grant& grant, const domain::Actor& actor,
                                                          domain::Timestamp now) {
  for (int attempt = 0; attempt < 8; ++attempt) {
    auto at = Fold(store);
    if (!at) return at.error();
    if (FindPending(at->fold, user, grant) == at->fold.pending.end()) return GrantChange{false, store.CommittedPosition()};
    auto result = AppendAt(store, at->version, domain::AccessRevoked{user, domain::ToString(grant.role), grant.scope},
                           actor, now, kGrantRequestWithdrawn);
    if (result) return GrantChange{true, result->last_position};
    if (!Retry(result.error())) return result.error();
  }
  return TooBusy();
}

eventstore::StoreResult<std::vector<PendingGrant>> PendingGrants(const eventstore::EventStore& store) {
  auto at = Fold(store);
  if (!at) return at.error();
  return std::move(at->fold.pending);
}

}  // namespace caseledger::api
