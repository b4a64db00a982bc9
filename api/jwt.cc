#include "api/jwt.h"

#include "api/api_logger.h"
#include "eventstore/file_write.h"

#include <boost/json.hpp>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace caseledger::api {
namespace {

namespace json = boost::json;

// The only header we sign with; the header we accept is checked field by field instead.
constexpr std::string_view kHeader = R"({"alg":"HS256","typ":"JWT"})";
constexpr size_t kSignatureBytes = 32;
constexpr size_t kGeneratedKeyBytes = 48;
constexpr size_t kMaxKeyFileBytes = 64 * 1024;

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int DecodeDigit(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out,
           &len) == nullptr) {
    throw std::runtime_error("HMAC-SHA256 failed");
  }
  return std::string(reinterpret_cast<const char*>(out), len);
}

// nullopt unless `segment` is base64url of a JSON object. Boost.JSON keeps the last of
// duplicate members, which is what RFC 7519 §4 allows.
std::optional<json::object> DecodeObject(std::string_view segment) {
  auto text = Base64UrlDecode(segment);
  if (!text) return std::nullopt;
  boost::system::error_code ec;
  json::value value = json::parse(*text, ec);
  if (ec || !value.is_object()) return std::nullopt;
  return std::move(value.as_object());
}

// NumericDate (RFC 7519 §2): integer or fractional seconds. false when present with a type
// that is not a usable number; `out` stays empty when absent.
bool ReadNumericDate(const json::object& o, std::string_view name, std::optional<int64_t>* out) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr) return true;
  if (v->is_int64()) {
    *out = v->get_int64();
    return true;
  }
  if (v->is_double()) {
    double d = v->get_double();
    if (!std::isfinite(d) || std::fabs(d) > 9.0e18) return false;
    *out = static_cast<int64_t>(std::floor(d));
    return true;
  }
  return false;  // strings, booleans, and integers beyond int64 are not dates
}

// false when present and not a string; `out` stays empty when absent.
bool ReadString(const json::object& o, std::string_view name, std::optional<std::string>* out) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr) return true;
  if (!v->is_string()) return false;
  *out = std::string(v->get_string());
  return true;
}

// RFC 7519 §4.1.3: a single string, or an array of strings that must contain ours.
boost::system::result<bool, JwtError> AudienceMatches(const json::object& o,
                                                      std::string_view expected) {
  const json::value* v = o.if_contains("aud");
  if (v == nullptr) return false;
  if (v->is_string()) return v->get_string() == expected;
  if (!v->is_array()) return JwtError::kMalformed;
  bool found = false;
  for (const json::value& item : v->get_array()) {
    if (!item.is_string()) return JwtError::kMalformed;
    if (item.get_string() == expected) found = true;
  }
  return found;
}

// nullopt when the header is one we accept; `alg` is then the algorithm it names.
std::optional<JwtError> CheckHeader(const json::object& header, std::optional<JwtAlgorithm>& alg) {
  const json::value* name = header.if_contains("alg");
  if (name == nullptr || !name->is_string()) return JwtError::kBadAlgorithm;
  alg = ParseJwtAlgorithm(name->get_string());
  if (!alg) return JwtError::kBadAlgorithm;  // "none", other HMACs, PS256, ...
  // We understand no extensions, so any "crit" must be refused (RFC 7515 §4.1.11).
  if (header.contains("crit")) return JwtError::kMalformed;
  // Explicit typing (RFC 8725 §3.11): no other kind of JWT passes for ours. An identity
  // provider's (RS256/ES256) access tokens may be typed "at+jwt" (RFC 9068 §2.1); the
  // server's own HS256 tokens are "JWT".
  if (const json::value* typ = header.if_contains("typ")) {
    const char* t = typ->is_string() ? typ->get_string().c_str() : nullptr;
    const bool access_token = t != nullptr && *alg != JwtAlgorithm::kHS256 &&
                              (strcasecmp(t, "at+jwt") == 0 || strcasecmp(t, "application/at+jwt") == 0);
    if (t == nullptr || (strcasecmp(t, "JWT") != 0 && !access_token)) {
      return JwtError::kMalformed;
    }
  }
  return std::nullopt;
}

void SetError(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
}

std::string Errno(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

}  // namespace

const char* ToString(JwtError error) {
  switch (error) {
    case JwtError::kMalformed: return "malformed token";
    case JwtError::kBadAlgorithm: return "token algorithm not accepted";
    case JwtError::kBadSignature: return "bad token signature";
    case JwtError::kExpired: return "token expired";
    case JwtError::kNotYetValid: return "token not yet valid";
    case JwtError::kWrongIssuer: return "wrong token issuer";
    case JwtError::kWrongAudience: return "wrong token audience";
    case JwtError::kMissingSubject: return "token has no subject";
  }
  return "invalid token";
}

void throw_exception_from_error(JwtError error, const boost::source_location& loc) {
  throw std::logic_error(std::string("value() on an error result at ") + loc.file_name() + ":" +
                         std::to_string(loc.line()) + ": " + ToString(error));
}

std::optional<JwtKey> JwtKey::FromSecret(std::string secret) {
  if (secret.size() < kMinSecretBytes) {
    OPENSSL_cleanse(secret.data(), secret.size());
    return std::nullopt;
  }
  return JwtKey(std::move(secret));
}

JwtKey::~JwtKey() { OPENSSL_cleanse(secret_.data(), secret_.size()); }

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char b : bytes) {
    acc = ((acc << 8) | b) & 0xffff;
    for (bits += 8; bits >= 6;) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 63]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 63]);
  return out;
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;  // no length leaves a single digit over
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int digit = DecodeDigit(c);
    if (digit < 0) return std::nullopt;
    acc = ((acc << 6) | static_cast<uint32_t>(digit)) & 0xfff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  // The leftover bits must be zero, so each byte string has exactly one encoding.
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

std::string SignToken(const TokenClaims& claims, const JwtKey& key) {
  json::object payload;
  payload["iss"] = claims.issuer;
  payload["sub"] = claims.subject;
  payload["aud"] = claims.audience;
  payload["exp"] = claims.expires_at;
  if (claims.not_before != 0) payload["nbf"] = claims.not_before;
  if (claims.issued_at != 0) payload["iat"] = claims.issued_at;
  if (!claims.token_id.empty()) payload["jti"] = claims.token_id;
  std::string input = Base64UrlEncode(kHeader) + "." + Base64UrlEncode(json::serialize(payload));
  std::string signature = HmacSha256(key.secret(), input);
  return input + "." + Base64UrlEncode(signature);
}

const char* ToString(JwtAlgorithm algorithm) {
  switch (algorithm) {
    case JwtAlgorithm::kHS256: return "HS256";
    case JwtAlgorithm::kRS256: return "RS256";
    case JwtAlgorithm::kES256: return "ES256";
  }
  return "?";
}

std::optional<JwtAlgorithm> ParseJwtAlgorithm(std::string_view name) {
  for (JwtAlgorithm a : {JwtAlgorithm::kHS256, JwtAlgorithm::kRS256, JwtAlgorithm::kES256}) {
    if (name == ToString(a)) return a;
  }
  return std::nullopt;
}

JwtAlgorithm JwtSigner::algorithm() const {
  if (const auto* pk = std::get_if<JwtPublicKey>(&key)) return pk->algorithm();
  return JwtAlgorithm::kHS256;
}

boost::system::result<TokenClaims, JwtError> VerifyToken(std::string_view token,
                                                         const std::vector<JwtSigner>& signers,
                                                         int64_t now, int64_t leeway_seconds) {
  if (token.size() > kMaxTokenBytes) return JwtError::kMalformed;
  size_t dot1 = token.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return JwtError::kMalformed;
  }
  auto header = DecodeObject(token.substr(0, dot1));
  if (!header) return JwtError::kMalformed;
  std::optional<JwtAlgorithm> alg;
  if (auto bad = CheckHeader(*header, alg)) return *bad;
  // The key decides the algorithm, never the token: only signers pinned to the named one.
  bool any = false;
  for (const JwtSigner& s : signers) any = any || s.algorithm() == *alg;
  if (!any) return JwtError::kBadAlgorithm;

  // Nothing in the payload is looked at before the signature holds.
  auto signature = Base64UrlDecode(token.substr(dot2 + 1));
  if (!signature) return JwtError::kMalformed;
  const std::string_view input = token.substr(0, dot2);
  const JwtSigner* signer = nullptr;
  for (const JwtSigner& s : signers) {
    if (s.algorithm() != *alg) continue;
    bool holds = false;
    if (const auto* secret = std::get_if<JwtKey>(&s.key)) {
      std::string expected = HmacSha256(secret->secret(), input);
      holds = signature->size() == kSignatureBytes &&
              CRYPTO_memcmp(signature->data(), expected.data(), kSignatureBytes) == 0;
    } else {
      holds = std::get<JwtPublicKey>(s.key).Verify(input, *signature);
    }
    if (holds) {
      signer = &s;
      break;
    }
  }
  if (signer == nullptr) return JwtError::kBadSignature;

  auto payload = DecodeObject(token.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!payload) return JwtError::kMalformed;
  std::optional<int64_t> exp, nbf, iat;
  std::optional<std::string> iss, sub, jti;
  if (!ReadNumericDate(*payload, "exp", &exp) || !ReadNumericDate(*payload, "nbf", &nbf) ||
      !ReadNumericDate(*payload, "iat", &iat) || !ReadString(*payload, "iss", &iss) ||
      !ReadString(*payload, "sub", &sub) || !ReadString(*payload, "jti", &jti)) {
    return JwtError::kMalformed;
  }
  if (!exp) return JwtError::kMalformed;  // RFC 8725: a token that never expires is refused
  // 128-bit arithmetic: exp and nbf come from the sender and may sit at the int64 limits.
  using Wide = __int128;
  if (Wide{now} >= Wide{*exp} + leeway_seconds) return JwtError::kExpired;
  if (nbf && Wide{now} + leeway_seconds < Wide{*nbf}) return JwtError::kNotYetValid;
  if (!iss || *iss != signer->issuer) return JwtError::kWrongIssuer;
  auto audience = AudienceMatches(*payload, signer->audience);
  if (!audience) return audience.error();
  if (!*audience) return JwtError::kWrongAudience;
  if (!sub || sub->empty()) return JwtError::kMissingSubject;

  TokenClaims claims;
  claims.subject = std::move(*sub);
  claims.issuer = std::move(*iss);
  claims.audience = signer->audience;
  claims.issued_at = iat.value_or(0);
  claims.not_before = nbf.value_or(0);
  claims.expires_at = *exp;
  claims.token_id = jti.value_or("");
  return claims;
}

boost::system::result<TokenClaims, JwtError> VerifyToken(std::string_view token, const JwtKey& key,
                                                         const JwtVerifyOptions& options) {
  std::vector<JwtSigner> signers{JwtSigner{key, options.issuer, options.audience}};
  return VerifyToken(token, signers, options.now, options.leeway_seconds);
}

std::optional<JwtKey> LoadKeyFile(const std::string& path, std::string* error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);  // a FIFO must not hang us
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    SetError(error, fd >= 0 && !S_ISREG(st.st_mode) ? "key file " + path + " is not a regular file"
                                                    : Errno("cannot open key file", path));
    if (fd >= 0) ::close(fd);
    return std::nullopt;
  }
  std::string secret;
  char buffer[4096];
  ssize_t n = 0;
  while (secret.size() <= kMaxKeyFileBytes && (n = ::read(fd, buffer, sizeof buffer)) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    secret.append(buffer, static_cast<size_t>(n));
  }
  if (n < 0) SetError(error, Errno("cannot read key file", path));
  ::close(fd);
  OPENSSL_cleanse(buffer, sizeof buffer);
  if (n < 0 || secret.size() > kMaxKeyFileBytes) {
    if (n >= 0) SetError(error, "key file " + path + " is larger than 64 KiB");
    OPENSSL_cleanse(secret.data(), secret.size());
    return std::nullopt;
  }
  size_t size = secret.size();
  auto key = JwtKey::FromSecret(std::move(secret));
  if (!key) {
    SetError(error, "key file " + path + " holds " + std::to_string(size) + " bytes; at least " +
                        std::to_string(JwtKey::kMinSecretBytes) + " are needed");
  } else if ((st.st_mode & 077) != 0) {
    ApiLog()->warn("key file {} is accessible to group or others (mode {:o}); chmod 600 it", path,
                   st.st_mode & 0777);
  }
  return key;
}

std::optional<JwtKey> LoadOrCreateKeyFile(const std::string& path, std::string* error) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 || errno != ENOENT) return LoadKeyFile(path, error);

  // Created only if still missing: a racing creator's key wins whole and nobody ever
  // reads a half-written file.
  std::string secret(kGeneratedKeyBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(secret.data()), static_cast<int>(secret.size())) != 1) {
    SetError(error, "cannot create key file " + path + ": no random bytes");
    return std::nullopt;
  }
  eventstore::FileWriteOptions placed;
  placed.placement = eventstore::FileWriteOptions::Placement::kCreateOnly;
  placed.mode = 0600;
  auto written = eventstore::WriteFileAtomically(path, secret, placed);
  OPENSSL_cleanse(secret.data(), secret.size());
  if (!written) {
    SetError(error, "cannot create key file: " + written.error().message);
    return std::nullopt;
  }
  return LoadKeyFile(path, error);
}

}  // namespace caseledger::api
