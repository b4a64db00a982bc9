// Recording grants and revocations in the `users` stream: shared by the grant routes and
// the offline `caseledger grant` bootstrap. A grant already held (or a revocation of one not
// held) appends nothing; the check and the append are tied by the stream version.
//
// Separation of duties (docs/security.md, audit finding 9): over HTTP, a grant of a role
// that opens personal data or grants (operator, lab, gp, auditor, admin) takes two admins.
// The first admin's AccessGranted is recorded with correlation id kGrantRequest and is a
// request, not in force; another admin's AccessGranted of the same grant (causation id: the
// request's position) puts it in force. A request is withdrawn by an AccessRevoked with
// correlation id kGrantRequestWithdrawn. Every other AccessGranted/AccessRevoked acts at
// once, as before: grants recorded before this rule, `caseledger grant` (offline, server
// stopped: the bootstrap of the first admins), `caseledger-demo`, school and mayor grants,
// and revocations.
#pragma once

#include "domain/access.h"
#include "domain/envelope.h"
#include "eventstore/event_store.h"

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace caseledger::api {

inline constexpr char kGrantRequest[] = "grant-request";
inline constexpr char kGrantRequestWithdrawn[] = "grant-request-withdrawn";

struct GrantChange {
  bool changed = false;  // false: the user already held it (grant) or did not (revoke)
  uint64_t position = 0;  // of the event appended, or the committed position when unchanged
};

// Subject ids in grants: 1-128 printable ASCII characters without spaces.
bool ValidSubject(std::string_view subject);

// Records AccessGranted/AccessRevoked that act at once (no second admin).
eventstore::StoreResult<GrantChange> RecordGrant(eventstore::EventStore& store, const std::string& user,
                                                 const domain::Grant& grant, bool revoke,
                                                 const domain::Actor& actor, domain::Timestamp now);

// Whether a grant of `role` over HTTP takes a second admin.
bool TakesTwoAdmins(domain::Role role);

struct PendingGrant {
  std::string user;
  domain::Grant grant;
  std::string requested_by;
  uint64_t position = 0;  // of the request
};

// The users stream folded: grants in force by user, and requests pending.
struct UsersFold {
  std::unordered_map<std::string, domain::GrantSet> users;
  std::vector<PendingGrant> pending;
  // Applies one event of the users stream with its envelope (the marks above).
  void Apply(const domain::Envelope& env, const domain::Event& event);
};

enum class GrantStep {
  kAlreadyHeld,   // nothing appended
  kGranted,       // in force now (a one-admin role, or the second admin's approval)
  kRequested,     // the first admin's request appended: pending a second admin
  kStillPending,  // the same admin asked again: nothing appended
};
struct GrantOutcome {
  GrantStep step = GrantStep::kAlreadyHeld;
  uint64_t position = 0;
  std::string requested_by;  // for a request, and for an approval: the first admin
};

// Admin `actor` asks for `grant` to `user`. REQUIRES: user != actor.id (the route refuses
// self-grants).
eventstore::StoreResult<GrantOutcome> RequestGrant(eventstore::EventStore& store, const std::string& user,
                                                   const domain::Grant& grant, const domain::Actor& actor,
                                                   domain::Timestamp now);
// Withdraws a pending request; changed false when none is pending.
eventstore::StoreResult<GrantChange> WithdrawGrantRequest(eventstore::EventStore& store, const std::string& user,
                                                          const domain::Grant& grant, const domain::Actor& actor,
                                                          domain::Timestamp now);
// The requests pending now, oldest first.
eventstore::StoreResult<std::vector<PendingGrant>> PendingGrants(const eventstore::EventStore& store);

}  // namespace caseledger::api
