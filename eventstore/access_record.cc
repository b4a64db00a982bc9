#include "eventstore/access_record.h"

#include "domain/bounded_archive.h"
#include "domain/string_archive.h"

#include <cereal/types/string.hpp>

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

void EncodeAccessRecordInto(const AccessRecord& r, std::string& out) {
  out.clear();
  out.push_back(kFormat);
  // The fields in Wire's order, straight from the record: the bytes Wire's serialize writes
  // (cereal binary frames neither the struct nor its fields).
  domain::StringOutputArchive ar(out);
  const int64_t at = r.at.micros;
  const int32_t status = r.status;
  ar(at, r.subject, r.role, r.person_id, r.endpoint, status);
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
