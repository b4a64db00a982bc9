// JSON Web Tokens (RFC 7519) as RFC 8725 asks: the algorithm pinned per key (HS256 with the
// server's secret; RS256/ES256 with an identity provider's public key), `iss`, `aud`, `exp`
// and `nbf` always checked. The token says who the caller is; what they may do is the grant
// recorded in the log (docs/security.md), so there are no roles or scopes in here.
//
// No Beast and no JSON library in this header: it is cheap to include.
#pragma once

#include <boost/system/result.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <memory>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

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
  kBadAlgorithm,    // header "alg" is not the algorithm of an accepted key (including
                    // "none"), or is missing
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

enum class JwtAlgorithm { kHS256, kRS256, kES256 };
const char* ToString(JwtAlgorithm algorithm);  // "HS256", ...
std::optional<JwtAlgorithm> ParseJwtAlgorithm(std::string_view name);

// A public key (PEM SubjectPublicKeyInfo) of an external identity provider, bound to one
// algorithm: RS256 takes an RSA key of at least 2048 bits, ES256 an EC key on P-256.
// Cheap to copy (shared, immutable).
class JwtPublicKey {
 public:
  static std::optional<JwtPublicKey> FromPem(JwtAlgorithm algorithm, std::string_view pem,
                                             std::string* error);
  static std::optional<JwtPublicKey> LoadPemFile(JwtAlgorithm algorithm, const std::string& path,
                                                 std::string* error);
  JwtAlgorithm algorithm() const { return algorithm_; }
  // Checks a JWS signature over `input` (RS256: RSASSA-PKCS1-v1_5 SHA-256; ES256: ECDSA
  // P-256 SHA-256 as the 64-byte R ‖ S of RFC 7518 §3.4).
  bool Verify(std::string_view input, std::string_view signature) const;

 private:
  struct Impl;
  JwtPublicKey(JwtAlgorithm algorithm, std::shared_ptr<const Impl> impl)
      : algorithm_(algorithm), impl_(std::move(impl)) {}
  JwtAlgorithm algorithm_;
  std::shared_ptr<const Impl> impl_;
};

// One signer whose tokens are accepted. A token is checked only against the signers of the
// algorithm its header names (RFC 8725 §3.1): an HS256 token is never checked with a
// public key, whatever the key's bytes (algorithm confusion), and "none" matches nothing.
struct JwtSigner {
  std::variant<JwtKey, JwtPublicKey> key;  // JwtKey: HS256
  std::string issuer = "caseledger";       // "iss" must equal this
  std::string audience = "caseledger";     // "aud" must be or contain this
  JwtAlgorithm algorithm() const;
};

// Checks, in this order: shape and size, header (alg of one of `signers`, no "crit"),
// signature (constant time; against each signer of that algorithm until one holds), then
// the claims against that signer: exp, nbf, iss, aud, sub, with `leeway_seconds` of clock
// skew on exp and nbf. `aud` may be a string or an array of strings. On success the claims
// come back with `audience` set to the one matched. Thread safe and pure: `now` is unix
// seconds from the caller's clock.
[[nodiscard]] boost::system::result<TokenClaims, JwtError> VerifyToken(
    std::string_view token, const std::vector<JwtSigner>& signers, int64_t now,
    int64_t leeway_seconds = 60);

// The same with the server's own HS256 key as the only signer.
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
