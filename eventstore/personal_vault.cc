#include "eventstore/personal_vault.h"

#include "domain/decision.h"
#include "eventstore/random_bytes.h"
#include "eventstore/record_format.h"

#include <openssl/evp.h>
#include <sodium.h>

#include <cstring>
#include <stdexcept>

namespace caseledger::eventstore {
namespace {

constexpr char kKdfContext[crypto_kdf_CONTEXTBYTES + 1] = "cldgr-v1";
constexpr uint64_t kWrapKeyId = 1, kIndexKeyId = 2, kCheckKeyId = 3, kDigestKeyId = 4, kShipKeyId = 5;
// Keys-family values: 1 = XChaCha20-Poly1305 (73 bytes, format 1), 2 = AES-256 key wrap
// under a per-stream key (41 bytes, format 2), 3 = a seed (17 bytes, format 3). All are
// read; new keys are written as 3. Sealed parts: 1 = random 24-byte nonce stored (formats
// 1-2), 2 = 8 random bytes stored, the rest of the nonce is the stream version.
constexpr char kWrapVersion = 1, kWrapVersionKw = 2, kSeedVersion = 3;
constexpr char kSealVersion = 1, kSealVersionShort = 2;
constexpr size_t kKwBytes = 40;  // RFC 3394 wrap of a 32-byte key
constexpr size_t kSeedBytes = 16;
constexpr size_t kShortNonce = 8;
constexpr size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t kTag = crypto_aead_xchacha20poly1305_ietf_ABYTES;
constexpr size_t kBlindBytes = 16;

static_assert(kSealOverhead == 1 + kShortNonce + kTag);
static_assert(crypto_kdf_KEYBYTES == 32 && crypto_aead_xchacha20poly1305_ietf_KEYBYTES == 32);

const unsigned char* U(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }
unsigned char* U(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

void EnsureSodium() {
  static const bool ready = sodium_init() >= 0;
  if (!ready) throw std::runtime_error("libsodium failed to initialise");
}

// Associated data of a wrapped key: the stream it belongs to, so a wrapped key copied to
// another stream's entry does not unwrap.
std::string WrapAd(std::string_view stream) {
  std::string ad = "caseledger-key/";
  ad.append(stream);
  return ad;
}

// Associated data of a sealed part: stream ‖ 0x00 ‖ BE64(version), as in the stream index.
std::string SealAd(std::string_view stream, uint64_t version) {
  return format::StreamKey(stream, version);
}

// Formats 1-2: version byte ‖ random 24-byte nonce ‖ AEAD(key, plain, ad).
std::optional<std::string> Decrypt(const uint8_t* key, char version, std::string_view ad,
                                   std::string_view sealed) {
  if (sealed.size() < 1 + kNonce + kTag || sealed[0] != version) return std::nullopt;
  std::string plain(sealed.size() - 1 - kNonce - kTag, '\0');
  unsigned long long len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(U(plain), &len, nullptr, U(sealed) + 1 + kNonce,
                                                 sealed.size() - 1 - kNonce, U(ad), ad.size(),
                                                 U(sealed) + 1, key) != 0) {
    return std::nullopt;
  }
  return plain;
}

// Seal version 2: version byte ‖ 8 random bytes ‖ AEAD(key, plain, ad), with the nonce
// random ‖ BE64(stream version) ‖ 8 zero bytes. The key is one stream's, so a nonce repeats
// only if one version of that stream is sealed twice (a write that failed and was decided
// again) and both drew the same 64 random bits.
void EncryptShortTo(std::string& out, const uint8_t* key, uint64_t version, std::string_view ad,
                    std::string_view plain) {
  const size_t at = out.size();
  out.resize(at + 1 + kShortNonce + plain.size() + kTag);
  unsigned char* sealed = U(out) + at;
  sealed[0] = kSealVersionShort;
  RandomBytes(sealed + 1, kShortNonce);
  unsigned char nonce[kNonce] = {};
  std::memcpy(nonce, sealed + 1, kShortNonce);
  for (int i = 0; i < 8; ++i) nonce[kShortNonce + i] = static_cast<unsigned char>(version >> (8 * (7 - i)));
  unsigned long long len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(sealed + 1 + kShortNonce, &len, U(plain), plain.size(),
                                             U(ad), ad.size(), nullptr, nonce, key);
}

std::string EncryptShort(const uint8_t* key, uint64_t version, std::string_view ad, std::string_view plain) {
  std::string out;
  EncryptShortTo(out, key, version, ad, plain);
  return out;
}

std::optional<std::string> DecryptShort(const uint8_t* key, uint64_t version, std::string_view ad,
                                        std::string_view sealed) {
  if (sealed.size() < 1 + kShortNonce + kTag || sealed[0] != kSealVersionShort) return std::nullopt;
  unsigned char nonce[kNonce] = {};
  std::memcpy(nonce, U(sealed) + 1, kShortNonce);
  for (int i = 0; i < 8; ++i) nonce[kShortNonce + i] = static_cast<unsigned char>(version >> (8 * (7 - i)));
  std::string plain(sealed.size() - 1 - kShortNonce - kTag, '\0');
  unsigned long long len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(U(plain), &len, nullptr, U(sealed) + 1 + kShortNonce,
                                                 sealed.size() - 1 - kShortNonce, U(ad), ad.size(),
                                                 nonce, key) != 0) {
    return std::nullopt;
  }
  return plain;
}

// RFC 3394 AES-256 key wrap (OpenSSL): deterministic and with an integrity check, so a
// wrapped key needs no nonce and no tag beyond its 8 bytes. `unwrap` false: wrap.
std::optional<std::string> KeyWrap(const uint8_t* kek, std::string_view in, bool unwrap) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (!ctx) return std::nullopt;
  EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  std::string out(in.size() + 8, '\0');
  int len = 0, final_len = 0;
  bool ok = EVP_CipherInit_ex(ctx, EVP_aes_256_wrap(), nullptr, kek, nullptr, unwrap ? 0 : 1) == 1 &&
            EVP_CipherUpdate(ctx, U(out), &len, U(in), static_cast<int>(in.size())) == 1 &&
            EVP_CipherFinal_ex(ctx, U(out) + len, &final_len) == 1;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) {
    sodium_memzero(out.data(), out.size());
    return std::nullopt;
  }
  out.resize(static_cast<size_t>(len + final_len));
  return out;
}

}  // namespace

PersonalVault::PersonalVault(std::string_view master_key) {
  EnsureSodium();
  if (master_key.size() != crypto_kdf_KEYBYTES) throw std::invalid_argument("master key must be 32 bytes");
  crypto_kdf_derive_from_key(wrap_key_.data(), wrap_key_.size(), kWrapKeyId, kKdfContext, U(master_key));
  crypto_kdf_derive_from_key(index_key_.data(), index_key_.size(), kIndexKeyId, kKdfContext, U(master_key));
  crypto_kdf_derive_from_key(check_key_.data(), check_key_.size(), kCheckKeyId, kKdfContext, U(master_key));
  crypto_kdf_derive_from_key(digest_key_.data(), digest_key_.size(), kDigestKeyId, kKdfContext, U(master_key));
  crypto_kdf_derive_from_key(ship_key_.data(), ship_key_.size(), kShipKeyId, kKdfContext, U(master_key));
}

PersonalVault::~PersonalVault() {
  sodium_memzero(wrap_key_.data(), wrap_key_.size());
  sodium_memzero(index_key_.data(), index_key_.size());
  sodium_memzero(check_key_.data(), check_key_.size());
  sodium_memzero(digest_key_.data(), digest_key_.size());
  sodium_memzero(ship_key_.data(), ship_key_.size());
  for (auto& [stream, key] : cache_) sodium_memzero(key.data(), key.size());
}

std::string PersonalVault::CheckValue() const {
  // A hash keyed by a derived key that is used for nothing else.
  std::string out(32, '\0');
  constexpr std::string_view kLabel = "caseledger master key check";
  crypto_generichash(U(out), out.size(), U(kLabel), kLabel.size(), check_key_.data(), check_key_.size());
  return out;
}

DataKey PersonalVault::NewDataKey() {
  EnsureSodium();
  DataKey key;
  crypto_aead_xchacha20poly1305_ietf_keygen(key.data());
  return key;
}

// The key-encryption key of one stream: the wrapping key hashed with the stream id, so that
// a wrapped key copied to another stream's entry fails the key wrap's integrity check.
std::array<uint8_t, 32> PersonalVault::StreamKek(std::string_view stream) const {
  std::array<uint8_t, 32> kek{};
  const std::string label = WrapAd(stream);
  crypto_generichash(kek.data(), kek.size(), U(label), label.size(), wrap_key_.data(), wrap_key_.size());
  return kek;
}

std::string PersonalVault::Wrap(std::string_view stream, const DataKey& key) const {
  std::array<uint8_t, 32> kek = StreamKek(stream);
  auto wrapped = KeyWrap(kek.data(), {reinterpret_cast<const char*>(key.data()), key.size()}, false);
  sodium_memzero(kek.data(), kek.size());
  if (!wrapped || wrapped->size() != kKwBytes) throw std::runtime_error("AES key wrap failed");
  return std::string(1, kWrapVersionKw) + *wrapped;
}

DataKey PersonalVault::KeyFromSeed(std::string_view stream, std::string_view seed) const {
  std::array<uint8_t, 32> kek = StreamKek(stream);
  DataKey key;
  crypto_generichash(key.data(), key.size(), U(seed), seed.size(), kek.data(), kek.size());
  sodium_memzero(kek.data(), kek.size());
  return key;
}

PersonalVault::NewKey PersonalVault::NewStreamKey(std::string_view stream) const {
  NewKey out;
  out.stored.assign(1 + kSeedBytes, '\0');
  out.stored[0] = kSeedVersion;
  RandomBytes(U(out.stored) + 1, kSeedBytes);
  out.key = KeyFromSeed(stream, std::string_view(out.stored).substr(1));
  return out;
}

std::optional<DataKey> PersonalVault::Unwrap(std::string_view stream, std::string_view wrapped) const {
  std::optional<std::string> plain;
  if (!wrapped.empty() && wrapped[0] == kSeedVersion) {
    if (wrapped.size() != 1 + kSeedBytes) return std::nullopt;
    return KeyFromSeed(stream, wrapped.substr(1));
  }
  if (!wrapped.empty() && wrapped[0] == kWrapVersionKw) {
    if (wrapped.size() != 1 + kKwBytes) return std::nullopt;
    std::array<uint8_t, 32> kek = StreamKek(stream);
    plain = KeyWrap(kek.data(), wrapped.substr(1), true);
    sodium_memzero(kek.data(), kek.size());
  } else {
    plain = Decrypt(wrap_key_.data(), kWrapVersion, WrapAd(stream), wrapped);  // format 1
  }
  if (!plain || plain->size() != DataKey().size()) return std::nullopt;
  DataKey key;
  std::memcpy(key.data(), plain->data(), key.size());
  sodium_memzero(plain->data(), plain->size());
  return key;
}

std::string PersonalVault::Seal(const DataKey& key, std::string_view stream, uint64_t version,
                                std::string_view plain) {
  return EncryptShort(key.data(), version, SealAd(stream, version), plain);
}

void PersonalVault::SealTo(std::string& out, const DataKey& key, std::string_view stream, uint64_t version,
                           std::string_view plain) {
  // The associated data (SealAd's bytes) without an allocation for the usual stream names.
  char buffer[128];
  if (stream.size() + 9 > sizeof buffer) {
    EncryptShortTo(out, key.data(), version, SealAd(stream, version), plain);
    return;
  }
  std::memcpy(buffer, stream.data(), stream.size());
  buffer[stream.size()] = '\0';
  for (int i = 0; i < 8; ++i) buffer[stream.size() + 1 + i] = static_cast<char>((version >> (8 * (7 - i))) & 0xff);
  EncryptShortTo(out, key.data(), version, std::string_view(buffer, stream.size() + 9), plain);
}

std::optional<std::string> PersonalVault::Open(const DataKey& key, std::string_view stream,
                                               uint64_t version, std::string_view sealed) {
  if (!sealed.empty() && sealed[0] == kSealVersion) {  // formats 1-2
    return Decrypt(key.data(), kSealVersion, SealAd(stream, version), sealed);
  }
  return DecryptShort(key.data(), version, SealAd(stream, version), sealed);
}

std::string PersonalVault::BlindClaim(std::string_view claim) const {
  if (!domain::IsPersonalClaim(claim)) return std::string(claim);
  size_t slash = claim.find('/');
  std::string_view prefix = claim.substr(0, slash + 1), value = claim.substr(slash + 1);
  unsigned char hash[kBlindBytes];
  crypto_generichash(hash, sizeof hash, U(value), value.size(), index_key_.data(), index_key_.size());
  return std::string(prefix) + Hex(hash, sizeof hash);
}

std::optional<DataKey> PersonalVault::CachedKey(const std::string& stream) const {
  std::lock_guard l(mu_);
  auto it = cache_.find(stream);
  if (it == cache_.end()) return std::nullopt;
  return it->second;
}

void PersonalVault::CacheKey(const std::string& stream, const DataKey& key) const {
  std::lock_guard l(mu_);
  // A reader that unwrapped the key just before an erasure committed must not bring it back.
  if (erased_.count(stream)) return;
  if (cache_.size() >= kMaxCachedKeys) {
    for (auto& [s, k] : cache_) sodium_memzero(k.data(), k.size());
    cache_.clear();
  }
  cache_.emplace(stream, key);
}

void PersonalVault::MarkErased(const std::string& stream) const {
  std::lock_guard l(mu_);
  erased_.insert(stream);
  if (auto it = cache_.find(stream); it != cache_.end()) {
    sodium_memzero(it->second.data(), it->second.size());
    cache_.erase(it);
  }
}

std::string Hex(const unsigned char* bytes, size_t n) {
  std::string out(2 * n + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), bytes, n);
  out.pop_back();  // the terminating NUL
  return out;
}

std::string PersonalVault::RequestDigest(std::string_view request) const {
  unsigned char hash[32];
  crypto_generichash(hash, sizeof hash, U(request), request.size(), digest_key_.data(), digest_key_.size());
  return std::string(kRequestDigestPrefix) + Hex(hash, sizeof hash);
}

std::string PersonalVault::ShipMac(std::string_view bytes) const {
  std::string mac(32, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(mac.data()), mac.size(), U(bytes), bytes.size(),
                     ship_key_.data(), ship_key_.size());
  return mac;
}

}  // namespace caseledger::eventstore
