#include "workload/demo_person_store.h"

#include <fcntl.h>
#include <unistd.h>

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

// The person's state in cereal binary, for the spill file only (read back by the same
// process that wrote it: no versioning).
namespace caseledger::domain {

template <class A>
void serialize(A& ar, SwabState& s) {
  ar(s.swab_id, s.kind, s.reason, s.requested_by, s.requested_at, s.collected, s.collected_at, s.holder_lab,
     s.outcome, s.lab_id, s.reported_at, s.corrections);
}
template <class A>
void serialize(A& ar, MeasureState& m) {
  ar(m.id, m.kind, m.start, m.given_end, m.reason, m.source_case, m.ended_on, m.end_reason);
}
template <class A>
void serialize(A& ar, Enrolment& e) {
  ar(e.school, e.class_label, e.role);
}
template <class A>
void serialize(A& ar, Dose& d) {
  ar(d.number, d.date);
}
template <class A>
void serialize(A& ar, PersonState& s) {
  ar(s.registered, s.person_id, s.version, s.sex, s.residence_istat, s.personal, s.erased, s.gp_id, s.enrolments,
     s.swabs, s.measures, s.doses, s.contacts, s.hospitalized, s.in_icu, s.case_open, s.last_closure, s.closed_on,
     s.last_positive);
}

}  // namespace caseledger::domain

namespace caseledger::workload {
namespace {

constexpr size_t kSmallestSlot = 64;

uint8_t SizeClass(size_t bytes) {
  uint8_t c = 0;
  while ((kSmallestSlot << c) < bytes) ++c;
  return c;
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "demo workload: person spill file: %s: %s\n", what.c_str(), std::strerror(errno));
  std::abort();
}

}  // namespace

DemoPersonStore::DemoPersonStore(const domain::ReferenceData& reference, std::string spill_path,
                                 size_t in_memory)
    : reference_(reference), spill_path_(std::move(spill_path)), in_memory_(std::max<size_t>(1, in_memory)) {}

DemoPersonStore::~DemoPersonStore() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(spill_path_.c_str());
  }
}

eventstore::StoreResult<void> DemoPersonStore::Open() {
  if (spill_path_.empty()) return {};
  fd_ = ::open(spill_path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    return eventstore::StoreError{eventstore::StoreErrorCode::kIo,
                                  "cannot create " + spill_path_ + ": " + std::strerror(errno)};
  }
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
  std::string bytes(slot.size, '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::pread(fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(slot.offset + done));
    if (n <= 0) Die("read " + spill_path_);
    done += static_cast<size_t>(n);
  }
  slot.person = std::make_unique<DemoPerson>(Decode(bytes));
  loaded_.push_back(index);
  ++stats_.read;
  return *slot.person;
}

void DemoPersonStore::Trim() {
  if (fd_ < 0) return;
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
}

void DemoPersonStore::Evict(size_t index) {
  Slot& slot = slots_[index];
  const std::string bytes = Encode(*slot.person);
  const uint8_t size_class = SizeClass(bytes.size());
  if (slot.size == 0 || size_class != slot.size_class) {
    if (slot.size != 0) free_[slot.size_class].push_back(slot.offset);
    if (free_.size() <= size_class) free_.resize(size_class + 1);
    if (!free_[size_class].empty()) {
      slot.offset = free_[size_class].back();
      free_[size_class].pop_back();
    } else {
      slot.offset = file_end_;
      file_end_ += kSmallestSlot << size_class;
      stats_.file_bytes = file_end_;
    }
    slot.size_class = size_class;
  }
  slot.size = static_cast<uint32_t>(bytes.size());
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::pwrite(fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(slot.offset + done));
    if (n <= 0) Die("write " + spill_path_);
    done += static_cast<size_t>(n);
  }
  slot.person.reset();
  ++stats_.written;
}

std::string DemoPersonStore::Encode(const DemoPerson& p) const {
  std::ostringstream out(std::ios::binary);
  {
    cereal::BinaryOutputArchive ar(out);
    DemoPerson& q = const_cast<DemoPerson&>(p);
    std::string residence = p.residence ? p.residence->istat_code : "";
    ar(q.id, residence, q.age, q.family_name, q.state, q.tested, q.swabbed_on, q.positive_day, q.quarantine_start,
       q.quarantine_listed);
  }
  return std::move(out).str();
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
