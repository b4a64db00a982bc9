#include "workload/demo_person_store.h"

#include <cereal/archives/binary.hpp>
#include <cereal/types/common.hpp>
#include <cereal/types/optional.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "domain/bounded_archive.h"
#include "domain/person_state_archive.h"
#include "domain/string_archive.h"

namespace caseledger::workload {
namespace {

[[noreturn]] void Die(const eventstore::StoreError& e) {
  std::fprintf(stderr, "demo workload: person spill file: %s\n", e.message.c_str());
  std::abort();
}

}  // namespace

DemoPersonStore::DemoPersonStore(const domain::ReferenceData& reference, std::string spill_path,
                                 size_t in_memory)
    : reference_(reference),
      records_(std::move(spill_path), in_memory, [this](const DemoPerson& p, std::string& out) { Encode(p, out); },
               [this](std::string_view bytes, const std::string& path) -> eventstore::StoreResult<std::unique_ptr<DemoPerson>> {
                 return std::make_unique<DemoPerson>(Decode(bytes, path));
               },
               // Written out on a thread of their own: the generator's thread is the load's
               // pace, and encoding and writing were ~60 % of its spill work (Encode reads
               // only the person and the reference data).
               /*background=*/true) {}

DemoPersonStore::~DemoPersonStore() = default;

eventstore::StoreResult<void> DemoPersonStore::Open() { return records_.Open(); }

size_t DemoPersonStore::Add(DemoPerson person) {
  records_.Add(std::make_unique<DemoPerson>(std::move(person)));
  return records_.size() - 1;
}

DemoPerson& DemoPersonStore::Get(size_t index) {
  auto person = records_.Get(index);
  if (!person) Die(person.error());
  return **person;
}

void DemoPersonStore::Trim() {
  if (auto trimmed = records_.Trim(); !trimmed) Die(trimmed.error());
}

void DemoPersonStore::Encode(const DemoPerson& p, std::string& out) const {
  {
    domain::StringOutputArchive ar(out);
    DemoPerson& q = const_cast<DemoPerson&>(p);
    std::string residence = p.residence ? p.residence->istat_code : "";
    ar(q.id, residence, q.age, q.family_name, q.state, q.tested, q.swabbed_on, q.positive_day, q.quarantine_start,
       q.quarantine_listed);
  }
}

DemoPerson DemoPersonStore::Decode(std::string_view bytes, const std::string& path) const {
  DemoPerson p;
  std::string residence;
  try {
    domain::BoundedBinaryInputArchive ar(bytes);
    ar(p.id, residence, p.age, p.family_name, p.state, p.tested, p.swabbed_on, p.positive_day, p.quarantine_start,
       p.quarantine_listed);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "demo workload: person spill file %s: %s\n", path.c_str(), e.what());
    std::abort();
  }
  p.residence = residence.empty() ? nullptr : reference_.FindMunicipality(residence);
  return p;
}

}  // namespace caseledger::workload
