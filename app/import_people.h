// The people of `caseledger import` (docs/import.md) in a fixed memory budget: at most
// `in_memory` are held decoded (their state for Decide); the others wait in a spill file
// (eventstore/spill_file.h) and are read back when a line names them. What stays in memory
// per person whatever the budget is a small fixed record: where its state is (16 bytes), and
// one hash-table entry per export key and per swab (a 64-bit hash and the person's index;
// the rare hash shared by two keys is told apart by the key kept with the state).
//
// Eviction is CLOCK and happens only in Trim(): a pointer from Get() stays valid until the
// next Trim(). With no spill path everybody stays in memory. Not thread-safe.
#pragma once

#include "domain/person.h"
#include "eventstore/spill_file.h"

#include <boost/unordered/unordered_flat_map.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace caseledger::app {

struct ImportPerson {
  std::string key;  // the export's key
  std::string id;   // the caseledger person id
  uint64_t line = 0;  // of the registration (0: held by the store before the import)
  domain::PersonState state;
  uint32_t index = 0;  // in ImportPeople: set by Add
};

class ImportPeople {
 public:
  // `spill_path` empty: everybody in memory; else the file is created by Open and removed by
  // the destructor. `in_memory` >= 1.
  ImportPeople(std::string spill_path, size_t in_memory);
  ~ImportPeople();
  ImportPeople(const ImportPeople&) = delete;
  ImportPeople& operator=(const ImportPeople&) = delete;

  eventstore::StoreResult<void> Open();

  size_t size() const { return records_.size(); }
  // The person registered under `key`, or null. Reads it back if it was written out (a
  // failure of the spill file is kIo).
  eventstore::StoreResult<ImportPerson*> Find(std::string_view key);
  // The person whose swab `swab_id` is (a swab added with AddSwab), or null.
  eventstore::StoreResult<ImportPerson*> FindSwab(std::string_view swab_id);
  // Adds a person; REQUIRES: no person has its key. Valid until the next Trim().
  ImportPerson* Add(ImportPerson person);
  // Records that `swab_id` is one of the swabs of `person` (a pointer from Find, FindSwab or
  // Add, before the next Trim()). REQUIRES: the swab is in its state.
  void AddSwab(std::string_view swab_id, const ImportPerson* person);
  // Writes people out until at most `in_memory` stay decoded.
  eventstore::StoreResult<void> Trim();
  // Calls `visit` with every person, in the order they were added (reading the spill file).
  eventstore::StoreResult<void> ForEach(const std::function<void(const ImportPerson&)>& visit);

  using Stats = eventstore::SpilledRecords<ImportPerson>::Stats;
  const Stats& stats() const { return records_.stats(); }

 private:
  eventstore::StoreResult<ImportPerson*> Get(uint32_t index);

  eventstore::SpilledRecords<ImportPerson> records_;
  // By the hash of the export key / swab id: the person's index. A key or swab whose hash an
  // earlier one holds goes to the exact maps (seldom, if ever).
  boost::unordered_flat_map<uint64_t, uint32_t> by_key_, by_swab_;
  std::unordered_map<std::string, uint32_t> key_collisions_, swab_collisions_;
};

}  // namespace caseledger::app
