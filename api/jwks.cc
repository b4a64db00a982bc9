// JWK → EVP_PKEY with OpenSSL 3's EVP_PKEY_fromdata, then through PEM into JwtPublicKey,
// so the key checks (RSA size, P-256) and the verification stay in one place (jwt_public_key.cc).
#include "api/jwks.h"

#include <boost/json.hpp>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <fstream>
#include <iterator>
#include <memory>

namespace caseledger::api {
namespace {

namespace json = boost::json;

std::optional<std::vector<JwtPublicKey>> Fail(std::string* error, std::string message) {
  if (error) *error = std::move(message);
  return std::nullopt;
}

std::optional<std::string> Member(const json::object& key, std::string_view name) {
  auto it = key.find(name);
  if (it == key.end() || !it->value().is_string()) return std::nullopt;
  return std::string(it->value().as_string());
}

// The PEM SubjectPublicKeyInfo of the key described by `params` ("RSA" or "EC").
std::optional<std::string> ToPem(const char* type, OSSL_PARAM_BLD* bld) {
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  EVP_PKEY* pkey = nullptr;
  bool ok = params != nullptr && ctx != nullptr && EVP_PKEY_fromdata_init(ctx) == 1 &&
            EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1;
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  if (!ok) return std::nullopt;
  BIO* bio = BIO_new(BIO_s_mem());
  std::optional<std::string> pem;
  if (bio != nullptr && PEM_write_bio_PUBKEY(bio, pkey) == 1) {
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    pem = std::string(data, static_cast<size_t>(len));
  }
  BIO_free(bio);
  EVP_PKEY_free(pkey);
  return pem;
}

using Bn = std::unique_ptr<BIGNUM, decltype(&BN_free)>;

Bn FromB64(const std::string& b64) {
  auto bytes = Base64UrlDecode(b64);
  if (!bytes || bytes->empty()) return Bn(nullptr, BN_free);
  return Bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes->data()), static_cast<int>(bytes->size()), nullptr),
            BN_free);
}

std::optional<std::string> RsaPem(const json::object& key, std::string* why) {
  auto n = Member(key, "n"), e = Member(key, "e");
  if (!n || !e) return *why = "an RSA key needs \"n\" and \"e\"", std::nullopt;
  Bn bn_n = FromB64(*n), bn_e = FromB64(*e);
  if (!bn_n || !bn_e) return *why = "\"n\" or \"e\" is not base64url", std::nullopt;
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  std::optional<std::string> pem;
  if (bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n.get()) == 1 &&
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e.get()) == 1) {
    pem = ToPem("RSA", bld);
  }
  OSSL_PARAM_BLD_free(bld);
  if (!pem) *why = "not a valid RSA public key";
  return pem;
}

std::optional<std::string> EcPem(const json::object& key, std::string* why) {
  if (Member(key, "crv") != "P-256") return *why = "only EC keys on \"crv\":\"P-256\" are supported", std::nullopt;
  auto x = Member(key, "x"), y = Member(key, "y");
  auto bx = x ? Base64UrlDecode(*x) : std::nullopt, by = y ? Base64UrlDecode(*y) : std::nullopt;
  if (!bx || !by || bx->size() != 32 || by->size() != 32) {
    return *why = "\"x\" and \"y\" must be 32 bytes of base64url", std::nullopt;
  }
  std::string point = "\x04" + *bx + *by;  // uncompressed SEC1 point
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  std::optional<std::string> pem;
  if (bld && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) == 1 &&
      OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) == 1) {
    pem = ToPem("EC", bld);
  }
  OSSL_PARAM_BLD_free(bld);
  if (!pem) *why = "not a valid P-256 public key";
  return pem;
}

}  // namespace

std::optional<std::vector<JwtPublicKey>> ParseJwks(std::string_view text, std::string* error) {
  boost::system::error_code ec;
  json::value doc = json::parse(text, ec);
  if (ec || !doc.is_object()) return Fail(error, "not a JWK Set (a JSON object with \"keys\")");
  const json::value* keys = doc.as_object().if_contains("keys");
  if (keys == nullptr || !keys->is_array()) return Fail(error, "not a JWK Set: no \"keys\" array");
  std::vector<JwtPublicKey> out;
  size_t index = 0;
  for (const json::value& v : keys->as_array()) {
    const std::string where = "key " + std::to_string(index++);
    if (!v.is_object()) return Fail(error, where + ": not an object");
    const json::object& key = v.as_object();
    const std::string name = where + (Member(key, "kid") ? " (kid " + *Member(key, "kid") + ")" : "");
    auto kty = Member(key, "kty");
    if (!kty) return Fail(error, name + ": no \"kty\"");
    if (*kty != "RSA" && *kty != "EC") continue;  // a type JWS here never uses
    if (key.contains("d")) return Fail(error, name + ": holds a private key; publish only the public part");
    if (auto use = Member(key, "use"); use && *use != "sig") continue;  // an encryption key
    const JwtAlgorithm alg = *kty == "RSA" ? JwtAlgorithm::kRS256 : JwtAlgorithm::kES256;
    if (auto named = Member(key, "alg"); named && *named != ToString(alg)) {
      return Fail(error, name + ": \"alg\" " + *named + " is not supported (RS256 for RSA, ES256 for EC)");
    }
    std::string why;
    auto pem = alg == JwtAlgorithm::kRS256 ? RsaPem(key, &why) : EcPem(key, &why);
    if (!pem) return Fail(error, name + ": " + why);
    auto pk = JwtPublicKey::FromPem(alg, *pem, &why);
    if (!pk) return Fail(error, name + ": " + why);
    out.push_back(std::move(*pk));
  }
  if (out.empty()) return Fail(error, "the JWK Set holds no RS256 or ES256 signing key");
  return out;
}

std::optional<std::vector<JwtPublicKey>> LoadJwksFile(const std::string& path, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(error, "cannot read JWK Set file " + path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string why;
  auto keys = ParseJwks(text, &why);
  if (!keys) return Fail(error, "JWK Set file " + path + ": " + why);
  return keys;
}

}  // namespace caseledger::api
