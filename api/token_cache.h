// Tokens whose signature and fixed claims (iss, aud, sub) already held, so that a client
// sending the same bearer token on every request pays the HMAC (or RSA/ECDSA) check and
// the two base64+JSON decodes once. A hit still checks exp and nbf against `now`; a token
// that fails them is verified afresh, which gives the exact error. A cached verification
// holds for the signer set it was made with: Replace() (the identity provider rotated its
// keys) starts a new set, and nothing verified with an older one is answered from the
// cache. The grants of the subject are not cached here (GrantTable answers them per
// request).
//
// Bounded: when a shard is full it is emptied. Thread safety: Verify() may be called from
// any thread.
//
// A connection sends the same token on every request: it may keep its last verified token
// in a VerifiedBearer of its own and hand it to Subject(), which answers a repeat from it
// without the shared cache's hash, lock and look-up, under the same checks (the signer set
// it was verified with is still the current one, exp and nbf against `now`).
#pragma once

#include "api/jwt.h"

#include <array>
#include <atomic>
#include <memory>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace caseledger::api {

// One connection's last token that verified (VerifiedTokens::Subject fills it), touched by
// that connection's thread only. Empty until the first verification.
struct VerifiedBearer {
  std::string token;
  std::string subject;
  int64_t not_before = 0;
  int64_t expires_at = 0;
  uint64_t generation = 0;  // of the signers that verified it
};

class VerifiedTokens {
 public:
  explicit VerifiedTokens(std::vector<JwtSigner> signers, size_t capacity = 16'384, int64_t leeway_seconds = 60);

  // As VerifyToken(token, signers, now, leeway_seconds) with the current signers.
  boost::system::result<TokenClaims, JwtError> Verify(std::string_view token, int64_t now);
  // Verify's subject ("sub") alone: what a request needs, without a copy of every claim.
  boost::system::result<std::string, JwtError> Subject(std::string_view token, int64_t now);
  // As Subject(token, now), answered from `last` when it holds this token verified by the
  // current signers and still in time; `last` then holds `token` when it verified (and is
  // left as it was when it did not).
  boost::system::result<std::string, JwtError> Subject(std::string_view token, int64_t now, VerifiedBearer& last);

  // The signers from now on; tokens verified before are verified again.
  void Replace(std::vector<JwtSigner> signers);

 private:
  static constexpr size_t kShards = 8;
  // Looked up by string_view: no copy of the token per request. Hashed on its last 32
  // bytes, the end of its signature: only verified tokens are ever stored, so nobody can
  // choose keys that collide, and that tells them apart as well as the whole ~200 bytes.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const {
      return std::hash<std::string_view>{}(s.size() > 32 ? s.substr(s.size() - 32) : s);
    }
  };
  struct Signers {
    std::vector<JwtSigner> signers;
    uint64_t generation = 0;
  };
  struct Verified {
    TokenClaims claims;
    uint64_t generation = 0;  // of the signers that verified it
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Verified, Hash, std::equal_to<>> tokens;
  };
  bool InTime(int64_t not_before, int64_t expires_at, int64_t now) const;
  bool InTime(const TokenClaims& c, int64_t now) const { return InTime(c.not_before, c.expires_at, now); }
  // `answer` applied to the token's claims, from the cache or verified afresh.
  template <class Answer>
  auto Find(std::string_view token, int64_t now, Answer answer)
      -> boost::system::result<decltype(answer(std::declval<const TokenClaims&>())), JwtError>;

  std::atomic<std::shared_ptr<const Signers>> signers_;
  // signers_'s generation, read without the atomic shared_ptr's lock (a connection's check).
  std::atomic<uint64_t> generation_{0};
  size_t per_shard_;
  int64_t leeway_;
  std::array<Shard, kShards> shards_;
};

}  // namespace caseledger::api
