// RS256 and ES256 verification with OpenSSL 3 (EVP): public keys of an external identity
// provider, each bound to one algorithm when loaded.
#include "api/jwt.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <fstream>
#include <iterator>

namespace caseledger::api {

struct JwtPublicKey::Impl {
  explicit Impl(EVP_PKEY* k) : key(k) {}
  ~Impl() { EVP_PKEY_free(key); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  EVP_PKEY* key;
};

namespace {

constexpr int kMinRsaBits = 2048;
constexpr size_t kEs256Half = 32;

std::optional<JwtPublicKey> Fail(std::string* error, std::string message) {
  if (error) *error = std::move(message);
  return std::nullopt;
}

// JWS carries ECDSA signatures as fixed-size R ‖ S; OpenSSL wants DER.
std::optional<std::string> EcdsaToDer(std::string_view rs) {
  if (rs.size() != 2 * kEs256Half) return std::nullopt;
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(rs.data()), kEs256Half, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(rs.data()) + kEs256Half, kEs256Half, nullptr);
  if (sig == nullptr || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig, r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return std::nullopt;
  }
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  if (len <= 0) return std::nullopt;
  std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

}  // namespace

std::optional<JwtPublicKey> JwtPublicKey::FromPem(JwtAlgorithm algorithm, std::string_view pem,
                                                  std::string* error) {
  if (algorithm == JwtAlgorithm::kHS256) return Fail(error, "HS256 takes a secret, not a public key");
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = bio ? PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr) : nullptr;
  BIO_free(bio);
  if (key == nullptr) return Fail(error, "not a PEM public key (SubjectPublicKeyInfo)");
  auto impl = std::make_shared<const Impl>(key);
  if (algorithm == JwtAlgorithm::kRS256) {
    if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) return Fail(error, "RS256 needs an RSA public key");
    if (EVP_PKEY_get_bits(key) < kMinRsaBits) return Fail(error, "RS256 needs an RSA key of at least 2048 bits");
  } else {
    char group[64] = {};
    size_t len = 0;
    if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC ||
        EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len) != 1 ||
        std::string_view(group) != "prime256v1") {
      return Fail(error, "ES256 needs an EC public key on P-256");
    }
  }
  return JwtPublicKey(algorithm, std::move(impl));
}

std::optional<JwtPublicKey> JwtPublicKey::LoadPemFile(JwtAlgorithm algorithm, const std::string& path,
                                                      std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(error, "cannot read public key file " + path);
  std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string why;
  auto key = FromPem(algorithm, pem, &why);
  if (!key) return Fail(error, "public key file " + path + ": " + why);
  return key;
}

bool JwtPublicKey::Verify(std::string_view input, std::string_view signature) const {
  std::string der;
  if (algorithm_ == JwtAlgorithm::kES256) {
    auto converted = EcdsaToDer(signature);
    if (!converted) return false;
    der = std::move(*converted);
    signature = der;
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx != nullptr &&
            EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, impl_->key) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()),
                             signature.size(), reinterpret_cast<const unsigned char*>(input.data()),
                             input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

}  // namespace caseledger::api
