// The demo workload's people (private to it), by index, in a fixed memory budget: at most
// `in_memory` people are held decoded; the others are written to a spill file and read
// back when the workload needs them again (a re-test may pick anyone tested before, so
// nobody can simply be forgotten). With no spill file everybody stays in memory, as before.
//
// Eviction is CLOCK (a person used since the hand last passed stays) and happens only in
// Trim(), so a reference from Get() stays valid until the next Trim(): the workload calls
// Trim() between steps that hold none. A person is written back whole, in cereal binary, by
// a thread of the store's own while the workload goes on (at most one batch in flight, of
// at least 1/64 of the budget; up to half the budget more people wait in memory meanwhile);
// the file (eventstore/spill_file.h) is a log of segments whose sparsest ones are emptied,
// so it stays within about twice the live bytes.
//
// Dormant people (with a spill file only). Once nothing is running for a person (no open
// case, no active measure, no swab awaiting its result, not in the quarantine list, alive),
// the workload only ever re-tests them, negative: three commands (RequestSwab, CollectSwab,
// RecordResult) whose decisions read of the state only that the person is registered and
// alive, its stream version and the swab they name. Such a person, named by MaybeDormant,
// is set aside at the next Trim: dropped from the decoded set and from the file, and kept
// as a summary of 48 bytes (id, residence, GP, version, the day last swabbed, whether
// tested). Get of a dormant person gives a light DemoPerson made from its summary, its
// state registered with that version and GP and holding only the swabs made since: the
// swab commands decide on it the events they decide on the whole state. Light people are
// folded back into their summaries at a Trim once their swabs all have a result. A caller
// that would give a light person any other command must not (Dormant() says who is):
// DemoSimulation::Apply aborts rather than decide on a partial state. Re-tests drawn among
// everybody tested were nearly all of the spill's read-backs at 1:1.
//
// Not thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "domain/person.h"
#include "domain/reference.h"
#include "eventstore/event_store.h"
#include "eventstore/spill_file.h"

namespace caseledger::workload {

struct DemoPerson {
  std::string id;  // ULID, the person id
  const domain::Municipality* residence = nullptr;
  int age = 0;  // on the day of registration
  std::string family_name;  // as registered (household contacts share it)
  domain::PersonState state;
  bool tested = false;
  domain::Date swabbed_on;        // last collection day: nobody is swabbed twice a day
  domain::Date positive_day;      // collection day of the last positive swab
  domain::Date quarantine_start;  // of the running quarantine, for contacts
  // In the workload's quarantine list (each contact enters it once, when registered).
  // Leaving clears the flag; the entry is dropped at the next sweep of the list.
  bool quarantine_listed = false;
};

class DemoPersonStore {
 public:
  // `reference` must outlive the store (residences are looked up again on reading back).
  // `spill_path` empty: everybody in memory. Else the file is created (truncated) and
  // removed by the destructor; `in_memory` >= 1.
  DemoPersonStore(const domain::ReferenceData& reference, std::string spill_path, size_t in_memory);
  ~DemoPersonStore();
  DemoPersonStore(const DemoPersonStore&) = delete;
  DemoPersonStore& operator=(const DemoPersonStore&) = delete;

  // Opens the spill file; a failure names it (kIo).
  eventstore::StoreResult<void> Open();

  size_t size() const { return records_.size(); }
  // Adds a person; its index is the size before.
  size_t Add(DemoPerson person);
  // The person at `index`, read back if it was written out. Valid until the next Trim().
  // Aborts on a spill file that cannot be read (the workload cannot go on without it).
  DemoPerson& Get(size_t index);
  DemoPerson& operator[](size_t index) { return Get(index); }
  // Sets aside the people named by MaybeDormant since the last Trim who are dormant, folds
  // light people back into their summaries, and writes people out until at most
  // `in_memory` stay decoded. Aborts on a write failure.
  void Trim();

  // `index` may have become dormant (checked at the next Trim). Without a spill file: nothing.
  void MaybeDormant(size_t index) {
    if (dormancy_ && !Dormant(index)) candidates_.push_back(index);
  }
  // Whether `index` is set aside: Get gives a light person (see above).
  bool Dormant(size_t index) const { return !set_aside_bits_.empty() && set_aside_bits_[index]; }

  using Stats = eventstore::SpilledRecords<DemoPerson>::Stats;
  const Stats& stats() const { return records_.stats(); }
  uint64_t set_aside() const { return set_aside_; }  // people set aside as dormant
  uint64_t light_made() const { return light_made_; }  // light people made from a summary

 private:
  // Appends the person's bytes in the spill file to `out`.
  void Encode(const DemoPerson& p, std::string& out) const;
  // Aborts on bytes that do not decode, as on a read failure.
  DemoPerson Decode(std::string_view bytes, const std::string& path) const;

  // A dormant person: what the workload reads of them and what their re-tests change.
  struct Summary {
    const domain::Municipality* residence = nullptr;
    uint32_t version = 0;  // of their stream
    uint32_t gp = 0;       // 1 + the GP's number in gps_; 0: none
    domain::Date swabbed_on;
    std::array<char, 26> id{};  // a ULID
    bool tested = false;
  };
  static constexpr size_t kLightFoldedFrom = 1024;

  // Sets the person aside if dormant and held decoded (named by MaybeDormant just before).
  void SetAside(size_t index);
  DemoPerson& Light(size_t index);

  const bool dormancy_;  // with a spill file only
  const domain::ReferenceData& reference_;
  eventstore::SpilledRecords<DemoPerson> records_;
  std::vector<Summary> dormant_;  // by index; empty without a spill file
  // By index, whether set aside (then dormant_ holds them): every Get asks, and a bit a
  // person stays in the caches where the person's summary, 48 bytes, was a miss each time.
  std::vector<bool> set_aside_bits_;
  std::vector<size_t> candidates_;
  std::unordered_map<size_t, std::unique_ptr<DemoPerson>> light_;  // by index
  size_t light_swept_at_ = kLightFoldedFrom;  // the size of light_ for the next sweep
  std::vector<std::string> gps_;
  std::unordered_map<std::string, uint32_t> gp_numbers_;  // into gps_
  uint64_t set_aside_ = 0;
  uint64_t light_made_ = 0;
};

}  // namespace caseledger::workload
