// JWK Sets: an identity provider's published keys verify its tokens, and sets that do not
// say clearly what to trust are refused.
#include "api/jwks.h"

#include "api/jwks_source.h"
#include "api/token_cache.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <thread>

namespace caseledger::api {
namespace {

constexpr int64_t kNow = 1'700'000'000;
constexpr char kIdp[] = "https://idp.example.org";

EVP_PKEY* Rsa() {
  static EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048});
  return key;
}
EVP_PKEY* OtherRsa() {
  static EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048});
  return key;
}
EVP_PKEY* Ec() {
  static EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  return key;
}

std::string Bn64(EVP_PKEY* key, const char* param, int pad = 0) {
  BIGNUM* bn = nullptr;
  EVP_PKEY_get_bn_param(key, param, &bn);
  std::string bytes(pad ? pad : BN_num_bytes(bn), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  BN_free(bn);
  return Base64UrlEncode(bytes);
}

std::string RsaJwk(EVP_PKEY* key, const std::string& kid, const std::string& extra = "") {
  return R"({"kty":"RSA","kid":")" + kid + R"(","use":"sig","n":")" + Bn64(key, OSSL_PKEY_PARAM_RSA_N) +
         R"(","e":")" + Bn64(key, OSSL_PKEY_PARAM_RSA_E) + "\"" + extra + "}";
}
std::string EcJwk(EVP_PKEY* key) {
  return R"({"kty":"EC","crv":"P-256","alg":"ES256","x":")" + Bn64(key, OSSL_PKEY_PARAM_EC_PUB_X, 32) +
         R"(","y":")" + Bn64(key, OSSL_PKEY_PARAM_EC_PUB_Y, 32) + "\"}";
}

// Typed as an identity provider types its access tokens (RFC 9068), unless `typ` says otherwise.
std::string Sign(EVP_PKEY* key, const char* alg, std::string_view payload, std::string typ = "at+jwt") {
  std::string input = Base64UrlEncode(std::string(R"({"alg":")") + alg + R"(","typ":")" + typ + "\"}") + "." +
                      Base64UrlEncode(payload);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = 0;
  EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key);
  EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size());
  std::string sig(len, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                 reinterpret_cast<const unsigned char*>(input.data()), input.size());
  EVP_MD_CTX_free(ctx);
  sig.resize(len);
  if (std::string_view(alg) == "ES256") {  // DER -> R ‖ S
    const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
    ECDSA_SIG* s = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
    std::string rs(64, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(s), reinterpret_cast<unsigned char*>(rs.data()), 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(s), reinterpret_cast<unsigned char*>(rs.data()) + 32, 32);
    ECDSA_SIG_free(s);
    sig = rs;
  }
  return input + "." + Base64UrlEncode(sig);
}

const std::string kPayload = std::string(R"({"iss":")") + kIdp +
                             R"(","aud":"caseledger","sub":"dr-rossi","exp":)" + std::to_string(kNow + 600) + "}";

std::vector<JwtSigner> Signers(const std::vector<JwtPublicKey>& keys) {
  std::vector<JwtSigner> out;
  for (const auto& k : keys) out.push_back(JwtSigner{k, kIdp, "caseledger"});
  return out;
}

TEST(JwksTest, EveryKeyOfTheSetVerifiesTheTokensItSigned) {
  std::string error;
  auto keys = ParseJwks(R"({"keys":[)" + RsaJwk(Rsa(), "a") + "," + RsaJwk(OtherRsa(), "b") + "," + EcJwk(Ec()) +
                            R"(,{"kty":"oct","k":"c2VjcmV0"}]})",
                        &error);
  ASSERT_TRUE(keys) << error;
  ASSERT_EQ(keys->size(), 3u);  // the "oct" key is skipped
  EXPECT_EQ((*keys)[0].algorithm(), JwtAlgorithm::kRS256);
  EXPECT_EQ((*keys)[2].algorithm(), JwtAlgorithm::kES256);
  auto signers = Signers(*keys);
  for (auto [key, alg] : {std::pair{Rsa(), "RS256"}, {OtherRsa(), "RS256"}, {Ec(), "ES256"}}) {
    auto r = VerifyToken(Sign(key, alg, kPayload), signers, kNow);
    ASSERT_TRUE(r) << alg << ": " << ToString(r.error());
    EXPECT_EQ(r->subject, "dr-rossi");
  }
}

TEST(JwksTest, OnlyAccessTokenTypesPass) {
  std::string error;
  auto keys = ParseJwks(R"({"keys":[)" + RsaJwk(Rsa(), "a") + "]}", &error);
  ASSERT_TRUE(keys) << error;
  for (const char* typ : {"JWT", "at+jwt", "application/at+jwt"}) {
    EXPECT_TRUE(VerifyToken(Sign(Rsa(), "RS256", kPayload, typ), Signers(*keys), kNow)) << typ;
  }
  for (const char* typ : {"logout+jwt", "secevent+jwt", "dpop+jwt"}) {
    auto r = VerifyToken(Sign(Rsa(), "RS256", kPayload, typ), Signers(*keys), kNow);
    ASSERT_FALSE(r) << typ;
    EXPECT_EQ(r.error(), JwtError::kMalformed);
  }
}

TEST(JwksTest, ATokenSignedByAKeyOutsideTheSetIsRejected) {
  std::string error;
  auto keys = ParseJwks(R"({"keys":[)" + RsaJwk(Rsa(), "a") + "]}", &error);
  ASSERT_TRUE(keys) << error;
  auto r = VerifyToken(Sign(OtherRsa(), "RS256", kPayload), Signers(*keys), kNow);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), JwtError::kBadSignature);
}

TEST(JwksTest, UnclearOrUnusableSetsAreRefusedWithAReason) {
  const std::pair<std::string, std::string> cases[] = {
      {"[]", "not a JWK Set"},
      {R"({"keys":{}})", "no \"keys\" array"},
      {R"({"keys":[]})", "no RS256 or ES256 signing key"},
      {R"({"keys":[)" + RsaJwk(Rsa(), "p", R"(,"d":"AAAA")") + "]}", "private key"},
      {R"({"keys":[)" + RsaJwk(Rsa(), "ps", R"(,"alg":"PS256")") + "]}", "PS256 is not supported"},
      {R"({"keys":[{"kty":"RSA","n":"!!","e":"AQAB"}]})", "not base64url"},
      {R"({"keys":[{"kty":"EC","crv":"P-384","x":"AA","y":"AA"}]})", "P-256"},
      {R"({"keys":[{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"}]})", "32 bytes"},
  };
  for (const auto& [text, why] : cases) {
    std::string error;
    EXPECT_FALSE(ParseJwks(text, &error)) << text;
    EXPECT_NE(error.find(why), std::string::npos) << text << " -> " << error;
  }
  // A small RSA key is refused by the same check as a PEM key.
  EVP_PKEY* small = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024});
  std::string error;
  EXPECT_FALSE(ParseJwks(R"({"keys":[)" + RsaJwk(small, "s") + "]}", &error));
  EXPECT_NE(error.find("2048"), std::string::npos) << error;
  EVP_PKEY_free(small);
}

TEST(JwksTest, FileErrorsNameTheFile) {
  std::string error;
  EXPECT_FALSE(LoadJwksFile("/nonexistent/jwks.json", &error));
  EXPECT_NE(error.find("/nonexistent/jwks.json"), std::string::npos);
  const std::string path = testing::TempDir() + "jwks_test.json";
  std::ofstream(path) << R"({"keys":[)" << EcJwk(Ec()) << "]}";
  auto keys = LoadJwksFile(path, &error);
  ASSERT_TRUE(keys) << error;
  EXPECT_EQ(keys->size(), 1u);
  std::remove(path.c_str());
}

// A provider's jwks_uri on a loopback port: answers the set it holds now (or a status).
class JwksEndpoint {
 public:
  JwksEndpoint() : acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this] { Serve(); });
  }
  ~JwksEndpoint() {
    stop_ = true;
    boost::system::error_code ec;
    boost::asio::ip::tcp::socket poke(io_);
    poke.connect(acceptor_.local_endpoint(), ec);
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/jwks"; }
  void Publish(std::string set, int status = 200) {
    std::lock_guard lock(mu_);
    set_ = std::move(set);
    status_ = status;
  }
  int requests() const { return requests_; }

 private:
  void Serve() {
    while (!stop_) {
      boost::asio::ip::tcp::socket socket(io_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec || stop_) continue;
      boost::asio::streambuf head;
      boost::asio::read_until(socket, head, "\r\n\r\n", ec);
      if (ec) continue;
      ++requests_;
      std::string body;
      int status;
      {
        std::lock_guard lock(mu_);
        body = set_;
        status = status_;
      }
      std::string answer = "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: application/json\r\nContent-Length: " +
                           std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
      boost::asio::write(socket, boost::asio::buffer(answer), ec);
    }
  }
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::mutex mu_;
  std::string set_;
  int status_ = 200;
};

// What serve does with a jwks_uri: the fetched keys replace the verifier's signers.
struct RotatingVerifier {
  VerifiedTokens tokens{std::vector<JwtSigner>{}};
  std::atomic<int> sets{0};
  JwksSource::KeysCallback OnKeys() {
    return [this](std::vector<JwtPublicKey> keys) {
      tokens.Replace(Signers(keys));
      ++sets;
    };
  }
};

bool Eventually(const std::function<bool()>& ok) {
  for (int i = 0; i < 500 && !ok(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return ok();
}

TEST(JwksSourceTest, FetchesAtStartAndFollowsARotationWhenAnUnknownKeySigns) {
  JwksEndpoint idp;
  idp.Publish(R"({"keys":[)" + RsaJwk(Rsa(), "2026-a") + "]}");
  RotatingVerifier verifier;
  std::string error;
  auto source = JwksSource::Start({idp.url(), std::chrono::hours(1), std::chrono::seconds(0)}, verifier.OnKeys(), &error);
  ASSERT_TRUE(source) << error;
  EXPECT_EQ(verifier.sets, 1);
  const std::string old_token = Sign(Rsa(), "RS256", kPayload);
  const std::string new_token = Sign(OtherRsa(), "RS256", kPayload);
  EXPECT_TRUE(verifier.tokens.Verify(old_token, kNow));  // now in the cache too
  EXPECT_EQ(verifier.tokens.Verify(new_token, kNow).error(), JwtError::kBadSignature);

  // The provider rotates: the new key only. The server learns it when asked to look again
  // (as serve does on a token signed by an unknown key), and the old key's tokens, cached
  // or not, stop verifying.
  idp.Publish(R"({"keys":[)" + RsaJwk(OtherRsa(), "2026-b") + "]}");
  source->RefreshSoon();
  ASSERT_TRUE(Eventually([&] { return verifier.sets == 2; }));
  EXPECT_TRUE(verifier.tokens.Verify(new_token, kNow));
  EXPECT_EQ(verifier.tokens.Verify(old_token, kNow).error(), JwtError::kBadSignature);
  EXPECT_EQ(source->fetches(), 2u);
}

TEST(JwksSourceTest, AskingOftenFetchesAtMostOncePerInterval) {
  JwksEndpoint idp;
  idp.Publish(R"({"keys":[)" + EcJwk(Ec()) + "]}");
  RotatingVerifier verifier;
  std::string error;
  auto source = JwksSource::Start({idp.url(), std::chrono::hours(1), std::chrono::seconds(60)}, verifier.OnKeys(), &error);
  ASSERT_TRUE(source) << error;
  for (int i = 0; i < 50; ++i) source->RefreshSoon();  // forged tokens, one after another
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(idp.requests(), 1);
  EXPECT_EQ(source->fetches(), 1u);
}

TEST(JwksSourceTest, ABadAnswerKeepsThePreviousKeysAndAFailedStartSaysWhy) {
  JwksEndpoint idp;
  idp.Publish(R"({"keys":[)" + RsaJwk(Rsa(), "a") + "]}");
  RotatingVerifier verifier;
  std::string error;
  auto source = JwksSource::Start({idp.url(), std::chrono::hours(1), std::chrono::seconds(0)}, verifier.OnKeys(), &error);
  ASSERT_TRUE(source) << error;
  idp.Publish("{}", 500);
  source->RefreshSoon();
  ASSERT_TRUE(Eventually([&] { return source->failures() == 1; }));
  EXPECT_EQ(verifier.sets, 1);
  EXPECT_TRUE(verifier.tokens.Verify(Sign(Rsa(), "RS256", kPayload), kNow));

  idp.Publish(R"({"keys":[{"kty":"RSA","n":"AA","e":"AQAB","d":"AA"}]})");  // a private key
  EXPECT_FALSE(JwksSource::Start({idp.url()}, verifier.OnKeys(), &error));
  EXPECT_NE(error.find(idp.url()), std::string::npos) << error;
  idp.Publish("{}", 404);
  EXPECT_FALSE(JwksSource::Start({idp.url()}, verifier.OnKeys(), &error));
  EXPECT_NE(error.find("404"), std::string::npos) << error;

  EXPECT_FALSE(AcceptableJwksUri("http://idp.example.org/jwks", &error));
  EXPECT_NE(error.find("https"), std::string::npos) << error;
  EXPECT_TRUE(AcceptableJwksUri("https://idp.example.org/realms/piemonte/protocol/openid-connect/certs", &error));
  EXPECT_TRUE(AcceptableJwksUri("http://[::1]:9000/jwks", &error)) << error;
  EXPECT_FALSE(AcceptableJwksUri("ftp://idp.example.org/jwks", &error));
}

}  // namespace
}  // namespace caseledger::api
