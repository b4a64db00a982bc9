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
// Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
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
  // Writes people out until at most `in_memory` stay decoded. Aborts on a write failure.
  void Trim();

  using Stats = eventstore::SpilledRecords<DemoPerson>::Stats;
  const Stats& stats() const { return records_.stats(); }

 private:
  // Appends the person's bytes in the spill file to `out`.
  void Encode(const DemoPerson& p, std::string& out) const;
  // Aborts on bytes that do not decode, as on a read failure.
  DemoPerson Decode(std::string_view bytes, const std::string& path) const;

  const domain::ReferenceData& reference_;
  eventstore::SpilledRecords<DemoPerson> records_;
};

}  // namespace caseledger::workload
