#include "eventstore/record_format.h"

#include <openssl/evp.h>

#include <cstring>

namespace caseledger::eventstore::format {
namespace {

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void PutBytes(std::string& out, std::string_view s) {
  PutVarint(out, s.size());
  out.append(s);
}

// Zig-zag keeps small negative instants (before 1970) short; recorded-at is never negative
// in practice but effective-at of old facts could be.
uint64_t ZigZag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool Varint(uint64_t& v) {
    v = 0;
    for (int shift = 0; shift <= 63; shift += 7) {
      if (in_.empty()) return false;
      auto byte = static_cast<uint8_t>(in_.front());
      in_.remove_prefix(1);
      v |= uint64_t{byte & 0x7fu} << shift;
      if ((byte & 0x80) == 0) return true;
    }
    return false;
  }
  bool Bytes(std::string& s) {
    uint64_t n;
    if (!Varint(n) || n > in_.size()) return false;
    s.assign(in_.data(), n);
    in_.remove_prefix(n);
    return true;
  }
  bool done() const { return in_.empty(); }

 private:
  std::string_view in_;
};

}  // namespace

void PutFixed64BE(std::string& out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t DecodeFixed64BE(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

std::string PositionKey(uint64_t position) {
  std::string k;
  PutFixed64BE(k, position);
  return k;
}

std::string StreamPrefix(std::string_view stream) {
  std::string k(stream);
  k.push_back('\0');
  return k;
}

std::string StreamKey(std::string_view stream, uint64_t version) {
  std::string k = StreamPrefix(stream);
  PutFixed64BE(k, version);
  return k;
}

std::string EncodeRecordBody(const domain::Envelope& e) {
  std::string out;
  out.reserve(64 + e.stream.size() + e.type.size() + e.body.size() + e.personal.size());
  out.push_back(2);  // record layout version: 2 = personal part sealed
  PutBytes(out, e.stream);
  PutVarint(out, e.version);
  PutBytes(out, e.type);
  PutVarint(out, e.schema_version);
  PutVarint(out, ZigZag(e.recorded_at.micros));
  // Effective-at is usually close to recorded-at: store the difference (modulo 2^64, so
  // that no pair of instants overflows, here or when decoding).
  PutVarint(out, ZigZag(static_cast<int64_t>(static_cast<uint64_t>(e.effective_at.micros) -
                                             static_cast<uint64_t>(e.recorded_at.micros))));
  PutBytes(out, e.actor.id);
  PutBytes(out, e.actor.role);
  PutBytes(out, e.correlation_id);
  PutBytes(out, e.causation_id);
  PutBytes(out, e.idempotency_key);
  PutBytes(out, e.body);
  PutBytes(out, e.personal);
  return out;
}

bool DecodeRecordBody(std::string_view in, domain::Envelope& e) {
  if (in.empty() || (in.front() != 1 && in.front() != 2)) return false;
  const bool sealed = in.front() == 2;
  Reader r(in.substr(1));
  uint64_t schema, recorded, effective_delta;
  if (!r.Bytes(e.stream) || !r.Varint(e.version) || !r.Bytes(e.type) || !r.Varint(schema) ||
      !r.Varint(recorded) || !r.Varint(effective_delta) || !r.Bytes(e.actor.id) ||
      !r.Bytes(e.actor.role) || !r.Bytes(e.correlation_id) || !r.Bytes(e.causation_id) ||
      !r.Bytes(e.idempotency_key) || !r.Bytes(e.body) || !r.Bytes(e.personal) || !r.done()) {
    return false;
  }
  e.schema_version = static_cast<uint32_t>(schema);
  e.personal_form = sealed && !e.personal.empty() ? domain::PersonalForm::kSealed : domain::PersonalForm::kOpen;
  e.recorded_at.micros = UnZigZag(recorded);
  e.effective_at.micros = static_cast<int64_t>(static_cast<uint64_t>(e.recorded_at.micros) +
                                               static_cast<uint64_t>(UnZigZag(effective_delta)));
  return true;
}

domain::Hash ChainHash(const domain::Hash& prev, uint64_t position, std::string_view record_body) {
  std::string pos;
  PutFixed64BE(pos, position);
  domain::Hash out{};
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  EVP_DigestUpdate(ctx, prev.data(), prev.size());
  EVP_DigestUpdate(ctx, pos.data(), pos.size());
  EVP_DigestUpdate(ctx, record_body.data(), record_body.size());
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, out.data(), &len);
  EVP_MD_CTX_free(ctx);
  return out;
}

std::string EncodeValue(std::string_view record_body, const domain::Hash& hash) {
  std::string v;
  v.reserve(record_body.size() + kHashSize);
  v.append(record_body);
  v.append(reinterpret_cast<const char*>(hash.data()), hash.size());
  return v;
}

std::optional<SplitValue> Split(std::string_view value) {
  if (value.size() < kHashSize + 1) return std::nullopt;
  SplitValue s;
  s.record_body = value.substr(0, value.size() - kHashSize);
  std::memcpy(s.hash.data(), value.data() + s.record_body.size(), kHashSize);
  return s;
}

std::string EncodeHead(const Head& h) {
  std::string v;
  PutFixed64BE(v, h.version);
  PutFixed64BE(v, h.last_position);
  return v;
}

std::optional<Head> DecodeHead(std::string_view v) {
  if (v.size() != 16) return std::nullopt;
  return Head{DecodeFixed64BE(v.data()), DecodeFixed64BE(v.data() + 8)};
}

std::string EncodeIdempotency(const IdempotencyRecord& r) {
  std::string v;
  PutBytes(v, r.digest);
  PutBytes(v, r.stream);
  PutVarint(v, r.first_position);
  PutVarint(v, r.last_position);
  PutVarint(v, r.version);
  return v;
}

std::optional<IdempotencyRecord> DecodeIdempotency(std::string_view v) {
  Reader r(v);
  IdempotencyRecord rec;
  if (!r.Bytes(rec.digest) || !r.Bytes(rec.stream) || !r.Varint(rec.first_position) ||
      !r.Varint(rec.last_position) || !r.Varint(rec.version) || !r.done()) {
    return std::nullopt;
  }
  return rec;
}

}  // namespace caseledger::eventstore::format
