// Private to eventstore/: the cryptography of personal data (crypto-shredding, docs/security.md).
//
// - A master key (32 random bytes in a file, mode 0600) never encrypts data itself: it
//   derives, with libsodium's crypto_kdf, a key-wrapping key, a blind-index key and a
//   check value that tells a store which master key it was created with.
// - Every stream that records personal data gets its own random data key, kept in the
//   `keys` column family as a 16-byte random seed: the key is a keyed hash of the seed
//   under a per-stream key derived from the wrapping key, so the seed alone opens nothing
//   and the master key alone cannot find the key again once the seed is gone. Destroying
//   that one small value makes every personal part of the stream unreadable for good,
//   while the log records, and so the hash chain, stay as they are. Stores of format 2
//   wrapped random keys with the AES-256 key wrap (RFC 3394) under that per-stream key,
//   format 1 with XChaCha20-Poly1305; both are still read.
// - A personal part is sealed with XChaCha20-Poly1305 IETF under the stream's data key,
//   a nonce of 8 random bytes and the stream version (the key is the stream's own, so the
//   nonce only has to differ between that stream's records), and associated data binding
//   it to its stream and stream version, so a sealed part moved to another record does not
//   open. Format 2 stored a random 24-byte nonce; those parts still open.
// - Claims on personal values ("taxcode/<code>") are stored as a keyed hash (BLAKE2b under
//   the blind-index key), so the claims family can answer a lookup without holding the
//   value. Layouts: eventstore/FORMAT.md.
//
// Thread safety: every method may be called from any thread concurrently.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace caseledger::eventstore {

using DataKey = std::array<uint8_t, 32>;

// Bytes a sealed part adds to the plaintext: version byte, stored nonce part, tag.
inline constexpr size_t kSealOverhead = 1 + 8 + 16;

class PersonalVault {
 public:
  // `master_key` must be 32 bytes.
  explicit PersonalVault(std::string_view master_key);
  ~PersonalVault();
  PersonalVault(const PersonalVault&) = delete;
  PersonalVault& operator=(const PersonalVault&) = delete;

  // The value stored under "master-key-check" in the default family: equal only for the
  // same master key. Reveals nothing about the key.
  std::string CheckValue() const;

  // A fresh random data key.
  static DataKey NewDataKey();
  // A new data key for `stream` and the value of the keys family that gives it back
  // (version byte 3 ‖ 16-byte random seed: 17 bytes).
  struct NewKey {
    std::string stored;
    DataKey key;
  };
  NewKey NewStreamKey(std::string_view stream) const;
  // Value of the keys family for `stream` in format 2 (version byte 2, RFC 3394 wrap of a
  // random key: 41 bytes); kept to test that such stores still read.
  std::string Wrap(std::string_view stream, const DataKey& key) const;
  // The key behind a keys-family value of any format; nullopt when `wrapped` was not made
  // for this stream under this master key (format 3 seeds cannot tell: a seed moved to
  // another stream gives a key that opens none of that stream's parts).
  std::optional<DataKey> Unwrap(std::string_view stream, std::string_view wrapped) const;

  // Seals `plain` for (stream, version); Open returns nullopt when the bytes were altered,
  // belong to another record or to another key.
  static std::string Seal(const DataKey& key, std::string_view stream, uint64_t version,
                          std::string_view plain);
  // The same bytes (kSealOverhead + plain.size() of them) appended to `out`.
  static void SealTo(std::string& out, const DataKey& key, std::string_view stream, uint64_t version,
                     std::string_view plain);
  static std::optional<std::string> Open(const DataKey& key, std::string_view stream,
                                         uint64_t version, std::string_view sealed);

  // The stored form of a claim: personal claims (domain::IsPersonalClaim) become
  // prefix ‖ 32 hex digits of a keyed hash of the value; others are kept as they are.
  std::string BlindClaim(std::string_view claim) const;

  // The digest stored with an idempotency key: kRequestDigestPrefix ‖ 64 hex digits of
  // BLAKE2b-256 of `request` keyed by a derived key used for nothing else, so that a
  // stored digest lets nobody without the master key test guesses of a request body
  // (which may hold a tax code) after the person's data was shredded.
  std::string RequestDigest(std::string_view request) const;

  // BLAKE2b-256 of `bytes` keyed by a derived key used for nothing else: authenticates the
  // frames a primary ships to its standby (standby.h), which hold the same master key.
  std::string ShipMac(std::string_view bytes) const;

  // A cache of unwrapped data keys, so that folding a stream does not unwrap on every read.
  // Streams marked erased are never cached again by this process.
  std::optional<DataKey> CachedKey(const std::string& stream) const;
  void CacheKey(const std::string& stream, const DataKey& key) const;
  void MarkErased(const std::string& stream) const;

 private:
  std::array<uint8_t, 32> StreamKek(std::string_view stream) const;
  DataKey KeyFromSeed(std::string_view stream, std::string_view seed) const;

  std::array<uint8_t, 32> wrap_key_{};
  std::array<uint8_t, 32> index_key_{};
  std::array<uint8_t, 32> check_key_{};
  std::array<uint8_t, 32> digest_key_{};
  std::array<uint8_t, 32> ship_key_{};

  static constexpr size_t kMaxCachedKeys = 1 << 16;
  mutable std::mutex mu_;
  mutable std::unordered_map<std::string, DataKey> cache_;  // guarded by mu_
  mutable std::unordered_set<std::string> erased_;          // guarded by mu_
};

// Marks a keyed request digest (PersonalVault::RequestDigest); digests without it are the
// unkeyed SHA-256 hex that stores wrote before keyed digests existed.
inline constexpr std::string_view kRequestDigestPrefix = "k1:";

// Lowercase hex of `n` bytes (libsodium's sodium_bin2hex).
std::string Hex(const unsigned char* bytes, size_t n);

// Reads the 32-byte master key from `path`. When the file does not exist and `may_create`,
// first creates it with 32 random bytes, mode 0600, atomically (written aside, linked into
// place). nullopt with `error` set on failure (missing, unreadable, wrong size).
std::optional<std::string> LoadMasterKeyFile(const std::string& path, bool may_create,
                                             std::string* error);

}  // namespace caseledger::eventstore
