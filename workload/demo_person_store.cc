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
    : reference_(reference), spill_path_(std::move(spill_path)), in_memory_(std::max<size_t>(1, in_memory)) {}

DemoPersonStore::~DemoPersonStore() = default;

eventstore::StoreResult<void> DemoPersonStore::Open() {
  if (spill_path_.empty()) return {};
  auto file = eventstore::SpillFile::Create(spill_path_);
  if (!file) return file.error();
  file_ = std::move(*file);
  return {};
}

size_t DemoPersonStore::Add(DemoPerson person) {
  Slot slot;
  slot.person = std::make_unique<DemoPerson>(std::move(person));
  slot.referenced = true;
  slots_.push_back(std::move(slot));
  loaded_.push_back(slots_.size() - 1);
  return slots_.size() - 1;
}

DemoPerson& DemoPersonStore::Get(size_t index) {
  Slot& slot = slots_[index];
  slot.referenced = true;
  if (slot.person) return *slot.person;
  if (auto read = file_->Read(slot.where, buffer_); !read) Die(read.error());
  slot.person = std::make_unique<DemoPerson>(Decode(buffer_));
  loaded_.push_back(index);
  ++stats_.read;
  return *slot.person;
}

void DemoPersonStore::Trim() {
  if (!file_) return;
  while (loaded_.size() > in_memory_) {
    if (hand_ >= loaded_.size()) hand_ = 0;
    Slot& slot = slots_[loaded_[hand_]];
    if (slot.referenced) {
      slot.referenced = false;
      ++hand_;
      continue;
    }
    Evict(loaded_[hand_]);
    loaded_[hand_] = loaded_.back();  // the hand now points at one it has not seen
    loaded_.pop_back();
  }
  stats_.file_bytes = file_->file_bytes();
}

void DemoPersonStore::Evict(size_t index) {
  Slot& slot = slots_[index];
  if (auto written = file_->Write(slot.where, Encode(*slot.person)); !written) Die(written.error());
  slot.person.reset();
  ++stats_.written;
}

std::string DemoPersonStore::Encode(const DemoPerson& p) const {
  std::string out;
  {
    domain::StringOutputArchive ar(out);
    DemoPerson& q = const_cast<DemoPerson&>(p);
    std::string residence = p.residence ? p.residence->istat_code : "";
    ar(q.id, residence, q.age, q.family_name, q.state, q.tested, q.swabbed_on, q.positive_day, q.quarantine_start,
       q.quarantine_listed);
  }
  return out;
}

DemoPerson DemoPersonStore::Decode(std::string_view bytes) const {
  DemoPerson p;
  std::string residence;
  try {
    domain::BoundedBinaryInputArchive ar(bytes);
    ar(p.id, residence, p.age, p.family_name, p.state, p.tested, p.swabbed_on, p.positive_day, p.quarantine_start,
       p.quarantine_listed);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "demo workload: person spill file %s: %s\n", spill_path_.c_str(), e.what());
    std::abort();
  }
  p.residence = residence.empty() ? nullptr : reference_.FindMunicipality(residence);
  return p;
}

}  // namespace caseledger::workload
