#include "eventstore/access_record.h"

#include "domain/bounded_archive.h"

#include <cereal/archives/binary.hpp>
#include <cereal/types/string.hpp>

#include <sstream>

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

std::string EncodeAccessRecord(const AccessRecord& r) {
  std::ostringstream os;
  {
    cereal::BinaryOutputArchive ar(os);
    Wire w{r.at.micros, r.subject, r.role, r.person_id, r.endpoint, r.status};
    ar(w);
  }
  return std::string(1, kFormat) + os.str();
}

std::optional<AccessRecord> DecodeAccessRecord(std::string_view bytes) {
  if (bytes.empty() || bytes.front() != kFormat) return std::nullopt;
  Wire w;
  if (!domain::DecodeCereal(bytes.substr(1), w)) return std::nullopt;
  return AccessRecord{domain::Timestamp{w.at}, w.subject, w.role, w.person_id, w.endpoint, w.status};
}

}  // namespace caseledger::eventstore
