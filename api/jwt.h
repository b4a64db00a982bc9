// JSON Web Tokens (RFC 7519) as RFC 8725 asks: one pinned algorithm (HS256), `iss`, `aud`
// and `exp` always checked. The token says who the caller is; what they may do is the grant
// recorded in the log (SPEC §6), so there are no roles or scopes in here.
//
// No Beast and no JSON library in this header: it is cheap to include.
#pragma once

#include <boost/system/result.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace caseledger::api {

// The registered claims we sign and check. Times are NumericDate: unix seconds.
struct TokenClaims {
  std::string subject;                  // "sub", required and non-empty
  std::string issuer = "caseledger";    // "iss"
  std::string audience = "caseledger";  // "aud" (signed as a single string)
  int64_t issued_at = 0;                // "iat"; 0: not set / absent
  int64_t not_before = 0;               // "nbf"; 0: not set / absent
  int64_t expires_at = 0;               // "exp", required
  std::string token_id;                 // "jti"; empty: not set / absent
};

struct JwtVerifyOptions {
  std::string issuer = "caseledger";    // "iss" must equal this
  std::string audience = "caseledger";  // "aud" must be or contain this
  int64_t now = 0;                      // unix seconds; the caller owns the clock
  int64_t leeway_seconds = 60;          // clock skew allowed on "exp" and "nbf"
};

enum class JwtError {
  kMalformed,       // not three base64url segments of JSON objects, a claim of the wrong
                    // type, no "exp", too large, unknown "crit"
  kBadAlgorithm,    // header "alg" is not "HS256" (including "none") or is missing
  kBadSignature,    // the HMAC does not match
  kExpired,         // now >= exp + leeway
  kNotYetValid,     // now + leeway < nbf
  kWrongIssuer,     // "iss" absent or different
  kWrongAudience,   // "aud" absent or does not contain the expected audience
  kMissingSubject,  // "sub" absent or empty
};

// A short lowercase phrase ("token expired"), fit for a 401 detail.
const char* ToString(JwtError error);

// Thrown only when a caller calls value() on an error result: a bug, not an expected failure.
[[noreturn]] void throw_exception_from_error(JwtError error, const boost::source_location& loc);

// An HS256 secret. The bytes are used as they are; they are wiped when the key is destroyed.
class JwtKey {
 public:
  // nullopt when `secret` is shorter than kMinSecretBytes (RFC 7518 §3.2: at least the
  // hash size).
  static std::optional<JwtKey> FromSecret(std::string secret);

  static constexpr size_t kMinSecretBytes = 32;

  JwtKey(const JwtKey&) = default;
  JwtKey(JwtKey&&) = default;
  JwtKey& operator=(const JwtKey&) = default;
  JwtKey& operator=(JwtKey&&) = default;
  ~JwtKey();

  std::string_view secret() const { return secret_; }

 private:
  explicit JwtKey(std::string secret) : secret_(std::move(secret)) {}
  std::string secret_;
};

// Tokens longer than this are rejected (kMalformed) before any decoding.
inline constexpr size_t kMaxTokenBytes = 8 * 1024;

// Returns "header.payload.signature" with header {"alg":"HS256","typ":"JWT"}. "iat", "nbf"
// and "jti" are written only when set. REQUIRES: claims.subject non-empty, expires_at set.
std::string SignToken(const TokenClaims& claims, const JwtKey& key);

// Checks, in this order: shape and size, header (alg pinned to HS256, no "crit"),
// signature (constant time), then the claims: exp, nbf, iss, aud, sub. `aud` may be a
// string or an array of strings. On success the claims come back with `audience` set to
// the one matched. Thread safe and pure: the clock is `options.now`.
[[nodiscard]] boost::system::result<TokenClaims, JwtError> VerifyToken(
    std::string_view token, const JwtKey& key, const JwtVerifyOptions& options);

// base64url (RFC 4648 §5) without padding, as JWS uses it. Decoding is strict: no '=', no
// whitespace, no characters outside the alphabet, no non-zero trailing bits.
std::string Base64UrlEncode(std::string_view bytes);
std::optional<std::string> Base64UrlDecode(std::string_view text);

// Key files hold the HS256 secret as raw bytes (at least 32, used as they are; a trailing
// newline is part of the key). On failure both return nullopt and, when `error` is not
// null, set it to a one-line message naming the file.
std::optional<JwtKey> LoadKeyFile(const std::string& path, std::string* error);
// As LoadKeyFile; when `path` does not exist, first creates it holding 48 random bytes with
// mode 0600. The file appears atomically (written aside, then linked into place), so two
// processes racing to create it end up using the same key.
std::optional<JwtKey> LoadOrCreateKeyFile(const std::string& path, std::string* error);

}  // namespace caseledger::api
