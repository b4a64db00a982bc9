// Bearer tokens (api/jwt.h): VerifyToken against the server's HS256 key and an identity
// provider's ES256 key. Input: a first byte, then either the token as received (even) or,
// to reach the claims past the signature, "header JSON\npayload JSON" that the harness
// encodes and signs with the HS256 key as the server would (odd). Property: base64url
// decoding inverts encoding.
#include "api/jwt.h"
#include "tests/fuzz/fuzz_target.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

namespace {

namespace api = caseledger::api;

constexpr int64_t kNow = 1'700'000'000;

const std::vector<api::JwtSigner>& Signers() {
  static const std::vector<api::JwtSigner> signers = [] {
    std::vector<api::JwtSigner> s;
    s.push_back({*api::JwtKey::FromSecret(std::string(48, 'k')), "caseledger", "caseledger"});
    EVP_PKEY* ec = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, ec);
    char* pem = nullptr;
    long n = BIO_get_mem_data(bio, &pem);
    std::string error;
    auto key = api::JwtPublicKey::FromPem(api::JwtAlgorithm::kES256, std::string_view(pem, size_t(n)), &error);
    FUZZ_CHECK(key.has_value());
    s.push_back({*key, "https://idp.example.org", "caseledger"});
    BIO_free(bio);
    EVP_PKEY_free(ec);
    return s;
  }();
  return signers;
}

std::string HmacSign(std::string_view input) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  const std::string secret(48, 'k');
  HMAC(EVP_sha256(), secret.data(), int(secret.size()), reinterpret_cast<const unsigned char*>(input.data()),
       input.size(), mac, &len);
  return api::Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(mac), len));
}

}  // namespace

CASELEDGER_FUZZ_TARGET(jwt) {
  if (size < 1) return 0;
  std::string_view text = caseledger::fuzz::AsText(data + 1, size - 1);
  if (auto decoded = api::Base64UrlDecode(text)) FUZZ_CHECK(api::Base64UrlEncode(*decoded) == text);
  FUZZ_CHECK(api::Base64UrlDecode(api::Base64UrlEncode(text)) == std::string(text));
  std::string token;
  if (data[0] % 2 == 0) {
    token = std::string(text);
  } else {
    const size_t nl = text.find('\n');
    std::string_view header = text.substr(0, nl);
    std::string_view payload = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    token = api::Base64UrlEncode(header) + "." + api::Base64UrlEncode(payload);
    token += "." + HmacSign(token);
  }
  auto claims = api::VerifyToken(token, Signers(), kNow);
  if (claims) FUZZ_CHECK(!claims->subject.empty() && claims->expires_at != 0);
  api::JwtVerifyOptions options;
  options.now = kNow;
  (void)api::VerifyToken(token, std::get<api::JwtKey>(Signers()[0].key), options);
  return 0;
}
