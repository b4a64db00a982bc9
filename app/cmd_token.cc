// caseledger token --key FILE --sub ID [--ttl SECONDS] [--iss X] [--aud Y]: prints a signed
// JWT for that subject (development and tests, docs/cli.md). The key file must already exist:
// minting with a fresh key would give tokens that no server accepts.
#include "api/jwt.h"
#include "app/commands.h"
#include "app/flags.h"

#include <openssl/rand.h>

#include <charconv>
#include <chrono>
#include <iostream>

namespace caseledger::app {
namespace {

constexpr int64_t kDefaultTtlSeconds = 3600;
constexpr int64_t kMaxTtlSeconds = 366LL * 24 * 3600;

std::optional<int64_t> ParseTtl(const std::string& text) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (value <= 0 || value > kMaxTtlSeconds) return std::nullopt;
  return value;
}

// 128 random bits as hex: a "jti" that tells two tokens minted in the same second apart.
std::string RandomTokenId() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return "";
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

}  // namespace

int RunToken(const Args& args) {
  Flags flags(args, {"key", "sub", "ttl", "iss", "aud"});
  if (!flags.ok()) return UsageError(flags.error());
  if (!flags.positional().empty()) return UsageError("token takes no positional arguments");
  auto key_path = flags.Get("key");
  auto subject = flags.Get("sub");
  if (!key_path || key_path->empty()) return UsageError("token needs --key FILE");
  if (!subject || subject->empty()) return UsageError("token needs --sub ID");
  int64_t ttl = kDefaultTtlSeconds;
  if (auto text = flags.Get("ttl")) {
    auto parsed = ParseTtl(*text);
    if (!parsed) return UsageError("--ttl must be a whole number of seconds from 1 to 31622400");
    ttl = *parsed;
  }

  std::string error;
  auto key = api::LoadKeyFile(*key_path, &error);
  if (!key) return Failure(error);

  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  api::TokenClaims claims;
  claims.subject = *subject;
  claims.issuer = flags.GetOr("iss", claims.issuer);
  claims.audience = flags.GetOr("aud", claims.audience);
  claims.issued_at = now;
  claims.expires_at = now + ttl;
  claims.token_id = RandomTokenId();
  std::cout << api::SignToken(claims, *key) << "\n";
  return std::cout.good() ? 0 : Failure("cannot write the token to stdout");
}

}  // namespace caseledger::app
