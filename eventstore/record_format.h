// Private to eventstore/: keys and record encoding (documented in FORMAT.md).
#pragma once

#include "domain/envelope.h"
#include "eventstore/log_reader.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace caseledger::eventstore::format {

// The store's format (FORMAT.md). A store of an earlier format opens and is upgraded in
// place: its records are read as they are; only the marker changes, so that a binary that
// only knows an earlier format refuses the store from then on.
inline constexpr char kFormatVersion[] = "caseledger-log-3";
inline constexpr char kPreviousFormatVersion[] = "caseledger-log-2";
inline constexpr char kFirstFormatVersion[] = "caseledger-log-1";
inline constexpr size_t kHashSize = 32;
// Record layout 3 stores the whole chain hash only at positions that are multiples of this
// (anchors); every other record carries the first kCheckSize bytes of its hash, and its
// whole hash is recomputed from the anchor before it (at most kAnchorEvery - 1 records).
inline constexpr uint64_t kAnchorEvery = 16;
inline constexpr size_t kCheckSize = 4;

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
// Where a stream's data key seed sits (format 3): its index entry for version 0.
inline std::string KeySeedKey(std::string_view stream) { return StreamKey(stream, 0); }

// Encodes everything of `e` except prev_hash and hash, as record layout 3: the personal
// part, when not empty, is sealed (the caller seals it first). `e.position` must be set: it
// decides whether the stored value will hold the whole hash (an anchor) or a check of it,
// and that is written in the layout byte (3: whole hash, 4: check), so EncodeValue and
// Split need no position.
std::string EncodeRecordBody(const domain::Envelope& e);
// The same bytes written from the parts of an append, without an Envelope (the bulk
// import's encoder: no copies of the stream, actor and ids per event). Appends to `out`
// every field up to and including the body; the personal part follows as its length
// (AppendRecordLength) and bytes, sealed (PersonalVault::SealTo) or empty.
struct RecordParts {
  uint64_t position = 0;  // decides the layout byte, as in EncodeRecordBody
  std::string_view stream;
  uint64_t version = 0;
  std::string_view type;
  uint32_t schema_version = 0;
  domain::Timestamp recorded_at;
  domain::Timestamp effective_at;
  std::string_view actor_id, actor_role, correlation_id, causation_id, idempotency_key;
  std::string_view body;
};
void AppendRecordBodyUpToPersonal(std::string& out, const RecordParts& p);
void AppendRecordLength(std::string& out, uint64_t n);  // a varint
// hash = SHA-256(prev_hash || BE64(position) || record_body)
domain::Hash ChainHash(const domain::Hash& prev, uint64_t position, std::string_view record_body);
// Stored value: record_body followed by the 32-byte hash, or by its first kCheckSize bytes
// when the body's layout byte says so (4). Also the access log's record encoding (its
// bodies start with 1, so they always carry the whole hash).
std::string EncodeValue(std::string_view record_body, const domain::Hash& hash);
// The same in place: `record` (a record body) becomes its stored value.
void AppendTrailer(std::string& record, const domain::Hash& hash);
inline constexpr size_t kMaxTrailerSize = kHashSize;
// The same into `room` (at least kMaxTrailerSize bytes, right after the body in a buffer of
// records); returns the trailer's size.
size_t WriteTrailer(std::string_view record_body, const domain::Hash& hash, char* room);
// Splits a stored value; nullopt if it is too short.
struct SplitValue {
  std::string_view record_body;
  domain::Hash hash{};       // the stored hash; only its first kCheckSize bytes unless whole
  bool whole = true;         // false: only a check is stored, recompute the hash
  // Whether `computed` (the chain hash recomputed for this record) is the stored one.
  bool Matches(const domain::Hash& computed) const;
};
std::optional<SplitValue> Split(std::string_view value);
// Split's record_body alone, the stored hash not copied (a read that trusts the chain);
// nullopt where Split's is.
std::optional<std::string_view> RecordBodyOf(std::string_view value);
// Decodes a record body into `e` (position/prev_hash/hash are left alone); false if the
// bytes are malformed. Layouts 2-4 with a personal part set personal_form kSealed
// (`personal` holds the sealed bytes); layout 1 (stores written before encryption) holds it
// in clear. EnvelopeFields::kViews leaves the fields it names empty (personal_form is set
// as for kAll, `personal` empty) and only steps over their bytes.
bool DecodeRecordBody(std::string_view record_body, domain::Envelope& e,
                      EnvelopeFields fields = EnvelopeFields::kAll);

// Value of the streams family (a position): a varint when shorter than 8 bytes, else BE64
// (format 2 wrote BE64 always): 8 bytes are BE64, fewer a varint.
std::string EncodePositionRef(uint64_t position);
std::optional<uint64_t> DecodePositionRef(std::string_view v);

// Value of the heads family: u8 1 ‖ varint version ‖ varint last position (format 2:
// BE64(version) BE64(last position), 16 bytes starting with 0, still read).
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
