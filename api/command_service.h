// Running commands: load the aggregate from its stream, decide, append with optimistic
// concurrency, claims and idempotency, and answer. Shared by every command route.
#pragma once

#include "api/api_context.h"
#include "api/http.h"
#include "api/router.h"
#include "domain/commands.h"
#include "domain/person.h"
#include "domain/school.h"

#include <optional>
#include <string>

namespace caseledger::api {

// How much of a stream to fold.
struct AsOf {
  std::optional<domain::Timestamp> recorded;   // events recorded up to this instant
  std::optional<domain::Timestamp> effective;  // events effective up to this instant
};

// Loads a person's state by folding its stream (all of it unless `as_of` limits it).
domain::Result<domain::PersonState> LoadPerson(const eventstore::EventStore& store,
                                               const std::string& person_id, const AsOf& as_of = {});
// The person's current state: from ctx.people when the server keeps the cache, else folded.
domain::Result<std::shared_ptr<const domain::PersonState>> CurrentPerson(const ApiContext& ctx,
                                                                         const std::string& person_id);
domain::Result<domain::SchoolState> LoadSchool(const eventstore::EventStore& store,
                                               const std::string& school);

// Decides and appends `command` for person `person_id` (empty for RegisterPerson) and
// answers 201 {position, first_position, stream, version, person_id, ...ids} or a problem.
// Honours Idempotency-Key and If-Match. The commands are taken by value: the run keeps them.
Response RunPersonCommand(const ApiContext& ctx, const RouteRequest& req,
                          const std::string& person_id, domain::PersonCommand command);
// A command on the person holding swab `swab_id`: 403 when the caller's roles may never
// issue it, else 404 alike for an unknown swab and for one outside the caller's scope
// (no existence oracle), else as RunPersonCommand. REQUIRES: `swab_id` outlives the answer,
// deferred or not (a path parameter of `req`, which the answer's waiter keeps alive).
Response RunSwabCommand(const ApiContext& ctx, const RouteRequest& req, const std::string& swab_id,
                        domain::PersonCommand command);
Response RunSchoolCommand(const ApiContext& ctx, const RouteRequest& req,
                          const std::string& school, domain::SchoolCommand command);

// The store key of an Idempotency-Key sent by `subject`: "http2/<length of subject>:<subject>/<key>",
// so that no two (subject, key) pairs share one, whatever characters either holds. Keys that
// stores recorded before it ("http/<subject>/<key>", ambiguous when a subject holds '/') are
// still honoured for the subject that wrote them (docs/security.md).
std::string IdempotencyKeyOf(std::string_view subject, std::string_view key);

// The person holding a claim ("swab/<id>"), if any.
std::optional<std::string> PersonOfClaim(const eventstore::EventStore& store, const std::string& claim);

}  // namespace caseledger::api
