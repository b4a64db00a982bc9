#include "api/token_cache.h"

namespace caseledger::api {

VerifiedTokens::VerifiedTokens(std::vector<JwtSigner> signers, size_t capacity, int64_t leeway_seconds)
    : signers_(std::make_shared<const Signers>(Signers{std::move(signers), 0})),
      per_shard_(capacity / kShards + 1),
      leeway_(leeway_seconds) {}

void VerifiedTokens::Replace(std::vector<JwtSigner> signers) {
  const uint64_t next = signers_.load()->generation + 1;
  signers_.store(std::make_shared<const Signers>(Signers{std::move(signers), next}));
  generation_.store(next, std::memory_order_release);
}

bool VerifiedTokens::InTime(int64_t not_before, int64_t expires_at, int64_t now) const {
  // The same arithmetic as VerifyToken: exp and nbf come from the sender.
  using Wide = __int128;
  if (Wide{now} >= Wide{expires_at} + leeway_) return false;
  if (not_before != 0 && Wide{now} + leeway_ < Wide{not_before}) return false;
  return true;
}

template <class Answer>
auto VerifiedTokens::Find(std::string_view token, int64_t now, Answer answer)
    -> boost::system::result<decltype(answer(std::declval<const TokenClaims&>())), JwtError> {
  Shard& shard = shards_[Hash{}(token) % kShards];
  const std::shared_ptr<const Signers> set = signers_.load();
  {
    std::lock_guard lock(shard.mu);
    auto it = shard.tokens.find(token);
    if (it != shard.tokens.end() && it->second.generation == set->generation && InTime(it->second.claims, now)) {
      return answer(it->second.claims);
    }
  }
  auto claims = VerifyToken(token, set->signers, now, leeway_);
  if (!claims) return claims.error();
  auto out = answer(*claims);
  std::lock_guard lock(shard.mu);
  if (shard.tokens.size() >= per_shard_) shard.tokens.clear();
  shard.tokens.insert_or_assign(std::string(token), Verified{std::move(*claims), set->generation});
  return out;
}

boost::system::result<TokenClaims, JwtError> VerifiedTokens::Verify(std::string_view token, int64_t now) {
  return Find(token, now, [](const TokenClaims& c) { return c; });
}

boost::system::result<std::string, JwtError> VerifiedTokens::Subject(std::string_view token, int64_t now) {
  return Find(token, now, [](const TokenClaims& c) { return c.subject; });
}

boost::system::result<std::string, JwtError> VerifiedTokens::Subject(std::string_view token, int64_t now,
                                                                     VerifiedBearer& last) {
  // A generation read before the verification below: a rotation after it makes `last` stale
  // at the next call, never current for tokens verified with the older signers.
  const uint64_t generation = generation_.load(std::memory_order_acquire);
  if (!last.token.empty() && last.generation == generation && last.token == token &&
      InTime(last.not_before, last.expires_at, now)) {
    return last.subject;
  }
  auto claims = Find(token, now, [](const TokenClaims& c) { return c; });
  if (!claims) return claims.error();
  last.token.assign(token);
  last.subject = claims->subject;
  last.not_before = claims->not_before;
  last.expires_at = claims->expires_at;
  last.generation = generation;
  return std::move(claims->subject);
}

}  // namespace caseledger::api
