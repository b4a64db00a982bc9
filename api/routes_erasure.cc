// Erasure of a person's personal data (GDPR art. 17, docs/security.md): records PersonalDataErased
// with its legal reason; the store destroys the person's key in the same write (so every
// personal part of the history reads as erased), releases the tax-code lookup and
// compacts the key away from its files before the answer.
//
// Re-registration: the tax code is free again afterwards. A new registration with it is a
// new person, with no link to the erased one: keeping the lookup would keep the code.
#include "api/command_bodies.h"
#include "api/route_helpers.h"
#include "api/routes.h"

namespace caseledger::api {

void AddErasureRoutes(Router& router, const ApiContext& ctx) {
  AddPersonCommand<domain::ErasePersonalData>(router, ctx, "/v1/people/{id}/erasure", ReadErasePersonalData);
}

}  // namespace caseledger::api
