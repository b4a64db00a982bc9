// Tokens whose signature and fixed claims (iss, aud, sub) already held, so that a client
// sending the same bearer token on every request pays the HMAC (or RSA/ECDSA) check and
// the two base64+JSON decodes once. A hit still checks exp and nbf against `now`; a token
// that fails them is verified afresh, which gives the exact error. The signers are fixed
// for the cache's lifetime (they are the server's, loaded at start), so a cached
// verification stays true; the grants of the subject are not cached here (GrantTable
// answers them per request).
//
// Bounded: when a shard is full it is emptied. Thread safety: Verify() may be called from
// any thread.
#pragma once

#include "api/jwt.h"

#include <array>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace caseledger::api {

class VerifiedTokens {
 public:
  // REQUIRES: `signers` outlives this object and does not change.
  explicit VerifiedTokens(const std::vector<JwtSigner>& signers, size_t capacity = 16'384,
                          int64_t leeway_seconds = 60)
      : signers_(signers), per_shard_(capacity / kShards + 1), leeway_(leeway_seconds) {}

  // As VerifyToken(token, signers, now, leeway_seconds).
  boost::system::result<TokenClaims, JwtError> Verify(std::string_view token, int64_t now);

 private:
  static constexpr size_t kShards = 8;
  // Looked up by string_view: no copy of the token per request.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, TokenClaims, Hash, std::equal_to<>> tokens;
  };
  bool InTime(const TokenClaims& c, int64_t now) const;

  const std::vector<JwtSigner>& signers_;
  size_t per_shard_;
  int64_t leeway_;
  std::array<Shard, kShards> shards_;
};

}  // namespace caseledger::api
