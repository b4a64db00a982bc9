// Recording grants and revocations in the `users` stream: shared by the grant routes and
// the offline `caseledger grant` bootstrap. A grant already held (or a revocation of one not
// held) appends nothing; the check and the append are tied by the stream version.
#pragma once

#include "domain/access.h"
#include "domain/envelope.h"
#include "eventstore/event_store.h"

#include <optional>
#include <string>

namespace caseledger::api {

struct GrantChange {
  bool changed = false;  // false: the user already held it (grant) or did not (revoke)
  uint64_t position = 0;  // of the event appended, or the committed position when unchanged
};

// Subject ids in grants: 1-128 printable ASCII characters without spaces.
bool ValidSubject(std::string_view subject);

eventstore::StoreResult<GrantChange> RecordGrant(eventstore::EventStore& store, const std::string& user,
                                                 const domain::Grant& grant, bool revoke,
                                                 const domain::Actor& actor, domain::Timestamp now);

}  // namespace caseledger::api
