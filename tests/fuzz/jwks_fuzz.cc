// An identity provider's JSON Web Key Set (api/jwks.h), as serve --jwt-jwks reads it.
#include "api/jwks.h"
#include "tests/fuzz/fuzz_target.h"

CASELEDGER_FUZZ_TARGET(jwks) {
  std::string error;
  auto keys = caseledger::api::ParseJwks(caseledger::fuzz::AsText(data, size), &error);
  FUZZ_CHECK(keys ? !keys->empty() : !error.empty());
  return 0;
}
