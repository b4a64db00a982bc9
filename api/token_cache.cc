#include "api/token_cache.h"

namespace caseledger::api {

bool VerifiedTokens::InTime(const TokenClaims& c, int64_t now) const {
  // The same arithmetic as VerifyToken: exp and nbf come from the sender.
  using Wide = __int128;
  if (Wide{now} >= Wide{c.expires_at} + leeway_) return false;
  if (c.not_before != 0 && Wide{now} + leeway_ < Wide{c.not_before}) return false;
  return true;
}

boost::system::result<TokenClaims, JwtError> VerifiedTokens::Verify(std::string_view token, int64_t now) {
  Shard& shard = shards_[Hash{}(token) % kShards];
  {
    std::lock_guard lock(shard.mu);
    auto it = shard.tokens.find(token);
    if (it != shard.tokens.end() && InTime(it->second, now)) return it->second;
  }
  auto claims = VerifyToken(token, signers_, now, leeway_);
  if (claims) {
    std::lock_guard lock(shard.mu);
    if (shard.tokens.size() >= per_shard_) shard.tokens.clear();
    shard.tokens.insert_or_assign(std::string(token), *claims);
  }
  return claims;
}

}  // namespace caseledger::api
