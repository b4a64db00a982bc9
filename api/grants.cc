#include "api/grants.h"

#include "api/grant_table.h"
#include "domain/event_codec.h"

namespace caseledger::api {

bool ValidSubject(std::string_view subject) {
  if (subject.empty() || subject.size() > 128) return false;
  for (char c : subject) {
    if (c <= ' ' || c > '~') return false;
  }
  return true;
}

eventstore::StoreResult<GrantChange> RecordGrant(eventstore::EventStore& store, const std::string& user,
                                                 const domain::Grant& grant, bool revoke,
                                                 const domain::Actor& actor, domain::Timestamp now) {
  for (int attempt = 0; attempt < 8; ++attempt) {
    auto version = store.StreamVersion(kUsersStream);
    if (!version) return version.error();
    // The user's grants at `version`: fold the stream (grant events are few).
    std::unordered_map<std::string, domain::GrantSet> users;
    auto events = store.ReadStream(kUsersStream, 1, *version);
    if (!events) return events.error();
    for (const auto& env : *events) {
      auto e = domain::Decode(env.type, env.schema_version, env.body, env.personal);
      if (!e) return eventstore::StoreError{eventstore::StoreErrorCode::kCorruption, "undecodable grant", 0, env.position};
      domain::ApplyAccessEvent(*e, users);
    }
    const domain::GrantSet& held = users[user];
    if (held.Holds(grant.role, grant.scope) != revoke) return GrantChange{false, store.CommittedPosition()};
    domain::Event event = revoke ? domain::Event(domain::AccessRevoked{user, domain::ToString(grant.role), grant.scope})
                                 : domain::Event(domain::AccessGranted{user, domain::ToString(grant.role), grant.scope});
    domain::EncodedEvent enc = domain::Encode(event);
    eventstore::AppendRequest append;
    append.stream = kUsersStream;
    append.expected = *version == 0 ? eventstore::ExpectedVersion::NoStream()
                                    : eventstore::ExpectedVersion::Exactly(*version);
    append.actor = actor;
    append.events.push_back({std::move(enc.type), enc.schema_version, std::move(enc.body), std::move(enc.personal), now});
    auto result = store.Append(append);
    if (result) return GrantChange{true, result->last_position};
    if (result.error().code != eventstore::StoreErrorCode::kWrongExpectedVersion) return result.error();
  }
  return eventstore::StoreError{eventstore::StoreErrorCode::kWrongExpectedVersion, "the users stream changed too often"};
}

}  // namespace caseledger::api
