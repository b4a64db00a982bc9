#include "workload/demo_person_store.h"

#include <algorithm>
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
    : dormancy_(!spill_path.empty()),
      reference_(reference),
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
  if (dormancy_) {
    dormant_.emplace_back();
    set_aside_bits_.push_back(false);
  }
  return records_.size() - 1;
}

DemoPerson& DemoPersonStore::Get(size_t index) {
  if (Dormant(index)) return Light(index);
  auto person = records_.Get(index);
  if (!person) Die(person.error());
  return **person;
}

void DemoPersonStore::Trim() {
  // Set aside before the clock runs: they leave the decoded set without being written.
  for (const size_t index : candidates_) SetAside(index);
  candidates_.clear();
  // A light person is folded back once its re-test has its result (one awaiting it, to be
  // reported tomorrow, stays light until then); in sweeps, not at every Trim, and the next
  // sweep only once the light people have doubled: a day's re-tests reported tomorrow
  // stay light all day, and a sweep at every Trim over them was ~10 % of the generator's
  // thread at 1:10.
  if (light_.size() >= light_swept_at_) {
    for (auto it = light_.begin(); it != light_.end();) {
      const DemoPerson& p = *it->second;
      if (std::any_of(p.state.swabs.begin(), p.state.swabs.end(), [](const domain::SwabState& w) { return !w.outcome; })) {
        ++it;
        continue;
      }
      Summary& s = dormant_[it->first];
      s.version = static_cast<uint32_t>(p.state.version);
      s.swabbed_on = p.swabbed_on;
      s.tested = p.tested;
      it = light_.erase(it);
    }
    light_swept_at_ = std::max(kLightFoldedFrom, 2 * light_.size());
  }
  if (auto trimmed = records_.Trim(); !trimmed) Die(trimmed.error());
}

void DemoPersonStore::SetAside(size_t index) {
  if (Dormant(index) || !records_.Held(index)) return;
  const DemoPerson& p = Get(index);  // held: not read back
  const domain::PersonState& s = p.state;
  if (!s.registered || s.erased || s.deceased() || s.case_open || s.hospitalized || s.in_icu ||
      p.quarantine_listed || p.id.size() != Summary{}.id.size() || s.version > UINT32_MAX) {
    return;
  }
  if (std::any_of(s.measures.begin(), s.measures.end(), [](const domain::MeasureState& m) { return m.active(); }) ||
      std::any_of(s.swabs.begin(), s.swabs.end(), [](const domain::SwabState& w) { return !w.outcome; })) {
    return;
  }
  Summary summary;
  summary.residence = p.residence;
  summary.version = static_cast<uint32_t>(s.version);
  if (!s.gp_id.empty()) {
    auto [it, added] = gp_numbers_.try_emplace(s.gp_id, static_cast<uint32_t>(gps_.size()));
    if (added) gps_.push_back(s.gp_id);
    summary.gp = it->second + 1;
  }
  summary.swabbed_on = p.swabbed_on;
  std::copy(p.id.begin(), p.id.end(), summary.id.begin());
  summary.tested = p.tested;
  dormant_[index] = summary;
  set_aside_bits_[index] = true;
  records_.Drop(index);
  ++set_aside_;
}

DemoPerson& DemoPersonStore::Light(size_t index) {
  std::unique_ptr<DemoPerson>& light = light_[index];
  if (light) return *light;
  const Summary& s = dormant_[index];
  light = std::make_unique<DemoPerson>();
  light->id.assign(s.id.begin(), s.id.end());
  light->residence = s.residence;
  light->tested = s.tested;
  light->swabbed_on = s.swabbed_on;
  domain::PersonState& state = light->state;
  state.registered = true;
  state.person_id = light->id;
  state.version = s.version;
  if (s.residence) state.residence_istat = s.residence->istat_code;
  if (s.gp > 0) state.gp_id = gps_[s.gp - 1];
  ++light_made_;
  return *light;
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
