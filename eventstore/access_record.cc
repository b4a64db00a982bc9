#include "eventstore/access_record.h"

#include "domain/bounded_archive.h"

#include <cereal/types/string.hpp>

#include <cstring>

namespace caseledger::eventstore {
namespace {

constexpr char kFormat = 1;

struct Wire {
  int64_t at = 0;
  std::string subject, role, person_id, endpoint;
  int32_t status = 0;
  template <class A> void serialize(A& ar) { ar(at, subject, role, person_id, endpoint, status); }
};

}  // namespace

size_t AppendAccessRecord(const AccessRecordView& r, std::string& out) {
  // The fields in Wire's order: the bytes Wire's serialize writes (cereal binary frames
  // neither the struct nor its fields; a string is its 64-bit size, then its bytes; numbers
  // in the host's order), written without an archive as a server queues one per read.
  // DecodeAccessRecord reads them back through cereal.
  const int64_t at = r.at.micros;
  const int32_t status = r.status;
  const size_t start = out.size();
  out.resize(start + 1 + sizeof at + 4 * sizeof(uint64_t) + r.subject.size() + r.role.size() +
             r.person_id.size() + r.endpoint.size() + sizeof status);
  char* p = out.data() + start;
  *p++ = kFormat;
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

void EncodeAccessRecordInto(const AccessRecord& r, std::string& out) {
  out.clear();
  AppendAccessRecord(r, out);
}

std::string EncodeAccessRecord(const AccessRecord& r) {
  std::string out;
  EncodeAccessRecordInto(r, out);
  return out;
}

std::optional<AccessRecord> DecodeAccessRecord(std::string_view bytes) {
  if (bytes.empty() || bytes.front() != kFormat) return std::nullopt;
  Wire w;
  if (!domain::DecodeCereal(bytes.substr(1), w)) return std::nullopt;
  return AccessRecord{domain::Timestamp{w.at}, w.subject, w.role, w.person_id, w.endpoint, w.status};
}

}  // namespace caseledger::eventstore
