// Private to eventstore/: keys and record encoding (documented in FORMAT.md).
#pragma once

#include "domain/envelope.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace caseledger::eventstore::format {

// The store's format (FORMAT.md). A store of the previous format opens and is upgraded in
// place: its records are read as they are; only the marker changes, so that a binary that
// only knows the previous format refuses the store from then on.
inline constexpr char kFormatVersion[] = "caseledger-log-2";
inline constexpr char kPreviousFormatVersion[] = "caseledger-log-1";
inline constexpr size_t kHashSize = 32;

// Column family names.
inline constexpr char kEvents[] = "events";
inline constexpr char kStreams[] = "streams";
inline constexpr char kHeads[] = "heads";
inline constexpr char kIdempotency[] = "idempotency";
inline constexpr char kClaims[] = "claims";
inline constexpr char kCheckpoints[] = "checkpoints";
inline constexpr char kKeys[] = "keys";
// Default-family key of the master key's check value.
inline constexpr char kMasterKeyCheck[] = "master-key-check";

void PutFixed64BE(std::string& out, uint64_t v);
uint64_t DecodeFixed64BE(const char* p);
std::string PositionKey(uint64_t position);
std::string StreamKey(std::string_view stream, uint64_t version);  // stream '\0' BE64(version)
std::string StreamPrefix(std::string_view stream);                  // stream '\0'

// Encodes everything of `e` except position, prev_hash and hash, as record layout 2: the
// personal part, when not empty, is sealed (the caller seals it first).
std::string EncodeRecordBody(const domain::Envelope& e);
// hash = SHA-256(prev_hash || BE64(position) || record_body)
domain::Hash ChainHash(const domain::Hash& prev, uint64_t position, std::string_view record_body);
// Stored value: record_body followed by the 32-byte hash.
std::string EncodeValue(std::string_view record_body, const domain::Hash& hash);
// Splits a stored value; nullopt if it is too short.
struct SplitValue {
  std::string_view record_body;
  domain::Hash hash;
};
std::optional<SplitValue> Split(std::string_view value);
// Decodes a record body into `e` (position/prev_hash/hash are left alone); false if the
// bytes are malformed. Layout 2 with a personal part sets personal_form kSealed (`personal`
// holds the sealed bytes); layout 1 (stores written before encryption) holds it in clear.
bool DecodeRecordBody(std::string_view record_body, domain::Envelope& e);

// Value of the heads family: BE64(version) BE64(last position).
struct Head {
  uint64_t version = 0;
  uint64_t last_position = 0;
};
std::string EncodeHead(const Head& h);
std::optional<Head> DecodeHead(std::string_view v);

// Value of the idempotency family.
struct IdempotencyRecord {
  std::string digest;
  std::string stream;
  uint64_t first_position = 0;
  uint64_t last_position = 0;
  uint64_t version = 0;
};
std::string EncodeIdempotency(const IdempotencyRecord& r);
std::optional<IdempotencyRecord> DecodeIdempotency(std::string_view v);

}  // namespace caseledger::eventstore::format
