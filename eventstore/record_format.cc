#include "eventstore/record_format.h"

#include "eventstore/varint.h"

#include <boost/endian/conversion.hpp>
#include <openssl/sha.h>

#include <cstring>
#include <stdexcept>

namespace caseledger::eventstore::format {
namespace {

using varint::UnZigZag;
using varint::ZigZag;

void PutVarint(std::string& out, uint64_t v) { varint::Append(out, v); }

void PutBytes(std::string& out, std::string_view s) {
  PutVarint(out, s.size());
  out.append(s);
}

class Reader {
 public:
  explicit Reader(std::string_view in) : next_(in.data()), end_(in.data() + in.size()) {}
  // varint::Get's value and outcome (shortest encoding not required). Inlined, as Bytes
  // and Skip are: out of line, five Skips a record were ~160 instructions of calls.
  [[gnu::always_inline]] bool Varint(uint64_t& v) {
    // Most numbers of a record (lengths, versions, a schema) take one byte.
    if (next_ != end_ && static_cast<uint8_t>(*next_) < 0x80) {
      v = static_cast<uint8_t>(*next_++);
      return true;
    }
    return LongVarint(v);
  }
  [[gnu::always_inline]] bool Bytes(std::string& s) {
    uint64_t n;
    if (!Varint(n) || n > left()) return false;
    // clear + append: a copy into the buffer the string has (a recycled envelope's);
    // assign's general path (the source may overlap the string) was ~90 instructions a
    // field (docs/benchmarks.md, session 27).
    s.clear();
    s.append(next_, n);
    next_ += n;
    return true;
  }
  // Steps over a field Bytes would read, `s` left empty; `n` its length.
  [[gnu::always_inline]] bool Skip(std::string& s, uint64_t& n) {
    if (!Varint(n) || n > left()) return false;
    s.clear();
    next_ += n;
    return true;
  }
  [[gnu::always_inline]] bool Skip(std::string& s) {
    uint64_t n;
    return Skip(s, n);
  }
  bool done() const { return next_ == end_; }

 private:
  size_t left() const { return static_cast<size_t>(end_ - next_); }
  // A varint of two bytes or more (an instant takes eight). With ten bytes left, no check
  // of the end at each byte: varint::Get's loop of checks and string_view updates was
  // ~200 instructions of a record's decode (docs/benchmarks.md, session 33).
  bool LongVarint(uint64_t& v) {
    if (left() < varint::kMaxBytes) {
      std::string_view rest(next_, left());
      if (!varint::Get(rest, v)) return false;
      next_ = rest.data();
      return true;
    }
    const auto* p = reinterpret_cast<const uint8_t*>(next_);
    uint64_t value = 0;
    for (int i = 0; i < static_cast<int>(varint::kMaxBytes); ++i) {
      const uint64_t b = p[i];
      value |= (b & 0x7f) << (7 * i);
      if (b < 0x80) {
        v = value;
        next_ += i + 1;
        return true;
      }
    }
    return false;  // past ten bytes
  }

  const char* next_;
  const char* end_;
};

}  // namespace

void PutFixed64BE(std::string& out, uint64_t v) {
  // One append of the eight bytes (a byte swap and a store): eight push_backs, each checking
  // the string's room, were ~160 instructions a call (callgrind, 2026-12-06), two calls an
  // event in a bulk load (the log's key on the pool, the stream index's in the merge).
  const uint64_t big = boost::endian::native_to_big(v);
  char bytes[sizeof big];
  std::memcpy(bytes, &big, sizeof big);
  out.append(bytes, sizeof bytes);
}

uint64_t DecodeFixed64BE(const char* p) {
  // A load and a byte swap: the loop of shifts compiled to ~50 instructions, once per record
  // of every log read (the key's check; docs/benchmarks.md, session 27).
  uint64_t big = 0;
  std::memcpy(&big, p, sizeof big);
  return boost::endian::big_to_native(big);
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

void AppendRecordLength(std::string& out, uint64_t n) { PutVarint(out, n); }

void AppendRecordBodyUpToPersonal(std::string& out, const RecordParts& p) {
  // The string grown once to the most the fields can take, each written in place, then cut
  // to what they took: thirteen appends, each checking the string's room, were ~900
  // instructions an event (callgrind, a bulk load at 1:1000; 2026-12-06).
  const std::string_view strings[] = {p.stream,         p.type,         p.actor_id,        p.actor_role,
                                      p.correlation_id, p.causation_id, p.idempotency_key, p.body};
  size_t most = 1 + 5 * varint::kMaxBytes;  // the layout byte and five numbers
  for (std::string_view s : strings) most += varint::kMaxBytes + s.size();
  const size_t start = out.size();
  out.resize(start + most);
  char* const begin = out.data() + start;
  char* w = begin;
  auto put_bytes = [&w](std::string_view s) {
    w = varint::Put(w, s.size());
    if (!s.empty()) std::memcpy(w, s.data(), s.size());
    w += s.size();
  };
  // Record layout 3 (whole hash stored: an anchor) or 4 (a check of it); both seal the
  // personal part, as 2 did.
  *w++ = static_cast<char>(p.position % kAnchorEvery == 0 ? 3 : 4);
  put_bytes(p.stream);
  w = varint::Put(w, p.version);
  put_bytes(p.type);
  w = varint::Put(w, p.schema_version);
  w = varint::Put(w, ZigZag(p.recorded_at.micros));
  // Effective-at is usually close to recorded-at: store the difference (modulo 2^64, so
  // that no pair of instants overflows, here or when decoding).
  w = varint::Put(w, ZigZag(static_cast<int64_t>(static_cast<uint64_t>(p.effective_at.micros) -
                                                 static_cast<uint64_t>(p.recorded_at.micros))));
  put_bytes(p.actor_id);
  put_bytes(p.actor_role);
  put_bytes(p.correlation_id);
  put_bytes(p.causation_id);
  put_bytes(p.idempotency_key);
  put_bytes(p.body);
  out.resize(start + static_cast<size_t>(w - begin));
}

std::string EncodeRecordBody(const domain::Envelope& e) {
  std::string out;
  out.reserve(64 + e.stream.size() + e.type.size() + e.body.size() + e.personal.size());
  AppendRecordBodyUpToPersonal(out, {e.position, e.stream, e.version, e.type, e.schema_version, e.recorded_at,
                                     e.effective_at, e.actor.id, e.actor.role, e.correlation_id, e.causation_id,
                                     e.idempotency_key, e.body});
  PutBytes(out, e.personal);
  return out;
}

bool DecodeRecordBody(std::string_view in, domain::Envelope& e, EnvelopeFields fields) {
  if (in.empty() || in.front() < 1 || in.front() > 4) return false;
  const bool sealed = in.front() != 1;
  Reader r(in.substr(1));
  uint64_t schema, recorded, effective_delta;
  if (!r.Bytes(e.stream) || !r.Varint(e.version) || !r.Bytes(e.type) || !r.Varint(schema) ||
      !r.Varint(recorded) || !r.Varint(effective_delta)) {
    return false;
  }
  uint64_t personal_size = 0;
  if (fields == EnvelopeFields::kViews) {
    if (!r.Skip(e.actor.id) || !r.Skip(e.actor.role) || !r.Skip(e.correlation_id) ||
        !r.Skip(e.causation_id) || !r.Skip(e.idempotency_key) || !r.Bytes(e.body) ||
        !r.Skip(e.personal, personal_size) || !r.done()) {
      return false;
    }
  } else {
    if (!r.Bytes(e.actor.id) || !r.Bytes(e.actor.role) || !r.Bytes(e.correlation_id) ||
        !r.Bytes(e.causation_id) || !r.Bytes(e.idempotency_key) || !r.Bytes(e.body) ||
        !r.Bytes(e.personal) || !r.done()) {
      return false;
    }
    personal_size = e.personal.size();
  }
  e.schema_version = static_cast<uint32_t>(schema);
  e.personal_form =
      sealed && personal_size != 0 ? domain::PersonalForm::kSealed : domain::PersonalForm::kOpen;
  e.recorded_at.micros = UnZigZag(recorded);
  e.effective_at.micros = static_cast<int64_t>(static_cast<uint64_t>(e.recorded_at.micros) +
                                               static_cast<uint64_t>(UnZigZag(effective_delta)));
  return true;
}

domain::Hash ChainHash(const domain::Hash& prev, uint64_t position, std::string_view record_body) {
  // OpenSSL's SHA256_* rather than an EVP context: the same SHA-NI code (sha256_block_data_order
  // picks it at run time either way) without the provider's dispatch: ~680 instructions a
  // call under callgrind (EVP_DigestInit_ex ~500 of them), 228 -> 177 ns natively in an
  // append's Prepare, and paid again for each hash a reader recomputes (15 records in 16).
  // Deprecated in OpenSSL 3.0, not removed (docs/benchmarks.md, session 30).
  const uint64_t big = boost::endian::native_to_big(position);
  domain::Hash out{};
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  SHA256_CTX c;
  if (SHA256_Init(&c) != 1 || SHA256_Update(&c, prev.data(), prev.size()) != 1 ||
      SHA256_Update(&c, &big, sizeof big) != 1 || SHA256_Update(&c, record_body.data(), record_body.size()) != 1 ||
      SHA256_Final(out.data(), &c) != 1) {
    throw std::runtime_error("SHA-256 failed");
  }
#pragma GCC diagnostic pop
  return out;
}

namespace {
// Layout 4 bodies are followed by a check of the hash, every other value by the hash.
size_t TrailerSize(std::string_view record_body) {
  return !record_body.empty() && record_body.front() == 4 ? kCheckSize : kHashSize;
}
}  // namespace

std::string EncodeValue(std::string_view record_body, const domain::Hash& hash) {
  const size_t trailer = TrailerSize(record_body);
  std::string v;
  v.reserve(record_body.size() + trailer);
  v.append(record_body);
  v.append(reinterpret_cast<const char*>(hash.data()), trailer);
  return v;
}

void AppendTrailer(std::string& record, const domain::Hash& hash) {
  record.append(reinterpret_cast<const char*>(hash.data()), TrailerSize(record));
}

size_t WriteTrailer(std::string_view record_body, const domain::Hash& hash, char* room) {
  const size_t trailer = TrailerSize(record_body);
  std::memcpy(room, hash.data(), trailer);
  return trailer;
}

std::optional<SplitValue> Split(std::string_view value) {
  if (value.empty()) return std::nullopt;
  const size_t trailer = TrailerSize(value);
  if (value.size() < trailer + 1) return std::nullopt;
  SplitValue s;
  s.record_body = value.substr(0, value.size() - trailer);
  s.whole = trailer == kHashSize;
  std::memcpy(s.hash.data(), value.data() + s.record_body.size(), trailer);
  return s;
}

std::optional<std::string_view> RecordBodyOf(std::string_view value) {
  if (value.empty()) return std::nullopt;
  const size_t trailer = TrailerSize(value);
  if (value.size() < trailer + 1) return std::nullopt;
  return value.substr(0, value.size() - trailer);
}

bool SplitValue::Matches(const domain::Hash& computed) const {
  return std::memcmp(computed.data(), hash.data(), whole ? kHashSize : kCheckSize) == 0;
}

std::string EncodePositionRef(uint64_t position) {
  std::string v;
  PutVarint(v, position);
  if (v.size() >= 8) {
    v.clear();
    PutFixed64BE(v, position);
  }
  return v;
}

std::optional<uint64_t> DecodePositionRef(std::string_view v) {
  if (v.size() == 8) return DecodeFixed64BE(v.data());
  Reader r(v);
  uint64_t position = 0;
  if (v.empty() || !r.Varint(position) || !r.done()) return std::nullopt;
  return position;
}

std::string EncodeHead(const Head& h) {
  std::string v(1, '\1');
  PutVarint(v, h.version);
  PutVarint(v, h.last_position);
  return v;
}

std::optional<Head> DecodeHead(std::string_view v) {
  if (v.size() == 16 && v.front() == 0) {  // format 2: BE64 ‖ BE64
    return Head{DecodeFixed64BE(v.data()), DecodeFixed64BE(v.data() + 8)};
  }
  if (v.empty() || v.front() != 1) return std::nullopt;
  Reader r(v.substr(1));
  Head h;
  if (!r.Varint(h.version) || !r.Varint(h.last_position) || !r.done()) return std::nullopt;
  return h;
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
