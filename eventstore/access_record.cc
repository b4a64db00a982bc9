#include "eventstore/access_record.h"

#include "eventstore/varint.h"

#include "domain/bounded_archive.h"

#include <cereal/types/string.hpp>

#include <climits>
#include <cstdint>
#include <cstring>

namespace caseledger::eventstore {
namespace {

constexpr char kFormat1 = 1;
constexpr char kFormat2 = 2;

// Format 1: cereal binary of these fields (a string is its 64-bit size, then its bytes;
// numbers in the host's order). Read still; written only by EncodeAccessRecord(r, 1).
struct Wire {
  int64_t at = 0;
  std::string subject, role, person_id, endpoint;
  int32_t status = 0;
  template <class A> void serialize(A& ar) { ar(at, subject, role, person_id, endpoint, status); }
};

// Format 2's codes for the roles and endpoints a server records (eventstore/FORMAT.md). A
// code names its text for good: new texts are appended, none is ever renumbered. Any
// other text is written literally after kLiteral.
constexpr std::string_view kRoles[] = {"", "operator", "lab", "gp", "school", "mayor", "auditor", "admin"};
constexpr std::string_view kEndpoints[] = {"GET /v1/people/{id}", "GET /v1/people?tax_code",
                                           "GET /v1/people/{id}/history", "GET /v1/people/{id}/access-log"};
constexpr uint8_t kLiteral = 0xff;

template <size_t N>
int CodeOf(const std::string_view (&table)[N], std::string_view text) {
  for (size_t i = 0; i < N; ++i) {
    if (table[i] == text) return static_cast<int>(i);
  }
  return -1;
}

using varint::UnZigZag;
using varint::ZigZag;

// The shortest encoding only (one encoding per record).
bool GetVarint(std::string_view& in, uint64_t& v) { return varint::Get(in, v, /*shortest=*/true); }
char* PutVarint(char* p, uint64_t v) { return varint::Put(p, v); }

bool GetString(std::string_view& in, std::string& out) {
  uint64_t size = 0;
  if (!GetVarint(in, size) || size > in.size()) return false;
  out.assign(in.substr(0, size));
  in.remove_prefix(size);
  return true;
}

template <size_t N>
bool GetCoded(std::string_view& in, const std::string_view (&table)[N], std::string& out) {
  if (in.empty()) return false;
  const auto code = static_cast<uint8_t>(in.front());
  in.remove_prefix(1);
  if (code < N) {
    out.assign(table[code]);
    return true;
  }
  // A literal of a text that has a code is not this encoder's: refused.
  return code == kLiteral && GetString(in, out) && CodeOf(table, out) < 0;
}

size_t AppendFormat1(const AccessRecordView& r, std::string& out) {
  const int64_t at = r.at.micros;
  const int32_t status = r.status;
  const size_t start = out.size();
  out.resize(start + 1 + sizeof at + 4 * sizeof(uint64_t) + r.subject.size() + r.role.size() +
             r.person_id.size() + r.endpoint.size() + sizeof status);
  char* p = out.data() + start;
  *p++ = kFormat1;
  auto put = [&p](const void* bytes, size_t n) {
    std::memcpy(p, bytes, n);
    p += n;
  };
  auto put_string = [&](std::string_view s) {
    const uint64_t size = s.size();
    put(&size, sizeof size);
    put(s.data(), s.size());
  };
  put(&at, sizeof at);
  put_string(r.subject);
  put_string(r.role);
  const size_t person_at = static_cast<size_t>(p - out.data()) + sizeof(uint64_t);
  put_string(r.person_id);
  put_string(r.endpoint);
  put(&status, sizeof status);
  return person_at;
}

std::optional<AccessRecord> DecodeFormat2(std::string_view in) {
  AccessRecord r;
  uint64_t at = 0, status = 0;
  if (!GetVarint(in, at) || !GetString(in, r.subject) || !GetCoded(in, kRoles, r.role) ||
      !GetString(in, r.person_id) || !GetCoded(in, kEndpoints, r.endpoint) || !GetVarint(in, status)) {
    return std::nullopt;
  }
  const int64_t s = UnZigZag(status);
  if (!in.empty() || s < INT32_MIN || s > INT32_MAX) return std::nullopt;
  r.at = domain::Timestamp{UnZigZag(at)};
  r.status = static_cast<int>(s);
  return r;
}

// Steps over one format-2 record at the front of `in` (its format byte included), without
// decoding it: the fields are self-delimiting.
bool SkipFormat2(std::string_view& in) {
  if (in.empty() || in.front() != kFormat2) return false;
  in.remove_prefix(1);
  uint64_t v = 0;
  auto skip_string = [&in, &v] {
    if (!varint::Get(in, v) || v > in.size()) return false;
    in.remove_prefix(v);
    return true;
  };
  auto skip_coded = [&] {
    if (in.empty()) return false;
    const auto code = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    return code != kLiteral || skip_string();
  };
  return varint::Get(in, v) && skip_string() && skip_coded() && skip_string() && skip_coded() && varint::Get(in, v);
}

}  // namespace

void AppendAccessEntryHeader(std::string& out, uint64_t count) {
  out.push_back(kAccessEntryFormat);
  varint::Append(out, count);
}

uint64_t AccessRecordsIn(std::string_view body) {
  if (body.empty()) return 0;
  if (body.front() == kFormat1 || body.front() == kFormat2) return 1;
  if (body.front() != kAccessEntryFormat) return 0;
  body.remove_prefix(1);
  uint64_t count = 0;
  return GetVarint(body, count) ? count : 0;
}

std::optional<std::vector<std::string_view>> SplitAccessRecords(std::string_view body) {
  if (body.empty()) return std::nullopt;
  if (body.front() == kFormat1 || body.front() == kFormat2) return std::vector<std::string_view>{body};
  if (body.front() != kAccessEntryFormat) return std::nullopt;
  std::string_view in = body.substr(1);
  uint64_t count = 0;
  if (!GetVarint(in, count) || count == 0 || count > in.size()) return std::nullopt;
  std::vector<std::string_view> records;
  records.reserve(count);
  while (!in.empty()) {
    const char* begin = in.data();
    if (records.size() == count || !SkipFormat2(in)) return std::nullopt;
    records.emplace_back(begin, static_cast<size_t>(in.data() - begin));
  }
  if (records.size() != count) return std::nullopt;
  return records;
}

std::optional<int64_t> AccessRecordAt(std::string_view record) {
  if (record.empty() || record.front() != kFormat2) return std::nullopt;
  record.remove_prefix(1);
  uint64_t at = 0;
  if (!varint::Get(record, at)) return std::nullopt;
  return UnZigZag(at);
}

size_t AppendAccessRecord(const AccessRecordView& r, std::string& out) {
  // Format 2, written without an archive as a server queues one per read: the format byte,
  // then at (zigzag varint), subject (varint size, bytes), role (a code), person id (varint
  // size, bytes), endpoint (a code), status (zigzag varint). A text without a code is its
  // literal: kLiteral, varint size, bytes.
  const int role = CodeOf(kRoles, r.role);
  const int endpoint = CodeOf(kEndpoints, r.endpoint);
  constexpr size_t kVarint = 10;
  const size_t start = out.size();
  out.resize(start + 1 + kVarint + (kVarint + r.subject.size()) + (1 + kVarint + r.role.size()) +
             (kVarint + r.person_id.size()) + (1 + kVarint + r.endpoint.size()) + kVarint);
  char* p = out.data() + start;
  *p++ = kFormat2;
  p = PutVarint(p, ZigZag(r.at.micros));
  auto put_string = [&p](std::string_view s) {
    p = PutVarint(p, s.size());
    std::memcpy(p, s.data(), s.size());
    p += s.size();
  };
  auto put_coded = [&](int code, std::string_view s) {
    if (code >= 0) {
      *p++ = static_cast<char>(code);
    } else {
      *p++ = static_cast<char>(kLiteral);
      put_string(s);
    }
  };
  put_string(r.subject);
  put_coded(role, r.role);
  p = PutVarint(p, r.person_id.size());
  const size_t person_at = static_cast<size_t>(p - out.data());
  std::memcpy(p, r.person_id.data(), r.person_id.size());
  p += r.person_id.size();
  put_coded(endpoint, r.endpoint);
  p = PutVarint(p, ZigZag(r.status));
  out.resize(static_cast<size_t>(p - out.data()));
  return person_at;
}

std::string EncodeAccessRecord(const AccessRecord& r, int format) {
  std::string out;
  if (format == 1) {
    AppendFormat1(r, out);
  } else {
    AppendAccessRecord(r, out);
  }
  return out;
}

std::optional<AccessRecord> DecodeAccessRecord(std::string_view bytes) {
  if (bytes.empty()) return std::nullopt;
  if (bytes.front() == kFormat2) return DecodeFormat2(bytes.substr(1));
  if (bytes.front() != kFormat1) return std::nullopt;
  Wire w;
  if (!domain::DecodeCereal(bytes.substr(1), w)) return std::nullopt;
  return AccessRecord{domain::Timestamp{w.at}, w.subject, w.role, w.person_id, w.endpoint, w.status};
}

}  // namespace caseledger::eventstore
