// JSON Web Key Sets (RFC 7517) of an external identity provider, as OpenID Connect
// publishes them at its `jwks_uri`: each usable key becomes a JwtPublicKey (jwt.h), so a
// provider's tokens verify against whichever of its keys signed them.
//
// Usable: "kty":"RSA" with "n"/"e" (RS256, at least 2048 bits) and "kty":"EC" with
// "crv":"P-256" and "x"/"y" (ES256). A key whose "use" is not "sig", whose "alg" names
// another algorithm, or that carries private members ("d") is refused, not skipped: a set
// that does not say what the operator meant is a configuration error. Keys of other types
// (e.g. "oct", "OKP") are skipped. No Beast here.
#pragma once

#include "api/jwt.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace caseledger::api {

// One verifying key per usable JWK, in the set's order; nullopt with a one-line `error`
// when the text is not a JWK Set, a key is malformed or refused, or no key is usable.
std::optional<std::vector<JwtPublicKey>> ParseJwks(std::string_view json, std::string* error);

// The same for a file; errors name it.
std::optional<std::vector<JwtPublicKey>> LoadJwksFile(const std::string& path, std::string* error);

}  // namespace caseledger::api
