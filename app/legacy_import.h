// The decide stage of `caseledger import` (docs/import.md): each line of a legacy export,
// in order, through the domain's Decide against the state of its person (or school), and
// the decision into a bulk import (eventstore/bulk_import.h) as the command routes would
// append it. A line that Decide or the store would refuse is reported with its line number
// and field; the import is then refused whole (never committed), but the lines after it
// are still checked, so one run reports them all.
#pragma once

#include "app/import_lines.h"
#include "app/import_people.h"
#include "domain/person.h"
#include "domain/reference.h"
#include "domain/school.h"
#include "eventstore/bulk_import.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace caseledger::app {

struct LineError {
  uint64_t line = 0;
  std::string field;  // empty: the line as a whole
  std::string message;
  std::string ToString() const;
};

class LegacyImport {
 public:
  // `store` is the store the import goes into (for people and swabs it held before);
  // `bulk` receives the appends; `people` holds the people's states (in a memory budget of
  // its own). All three must outlive this object.
  LegacyImport(const domain::ReferenceData& reference, const eventstore::EventStore& store,
               eventstore::BulkImport& bulk, ImportPeople& people);

  // Decides and adds line `number`, parsed (or the parse error). False when it is bad
  // (recorded in errors()) or when the import itself failed (failure()).
  bool Apply(uint64_t number, domain::Result<ImportLine> parsed);
  // A failure of the import itself (its spill file), not of a line: nothing more is decided.
  const std::optional<eventstore::StoreError>& failure() const { return failure_; }

  const std::vector<LineError>& errors() const { return errors_; }  // the first max_errors
  uint64_t bad_lines() const { return bad_lines_; }
  uint64_t people() const { return people_.size(); }
  void set_max_errors(size_t n) { max_errors_ = n; }
  // Calls `visit(key, id)` for every export key that was not a caseledger person id, with the
  // id its person got, in the order of registration.
  eventstore::StoreResult<void> ForEachDerivedId(
      const std::function<void(const std::string&, const std::string&)>& visit);

 private:
  using Person = ImportPerson;

  void Report(uint64_t line, std::string field, std::string message);  // one more error of a bad line
  bool Fail(uint64_t line, std::string field, std::string message);    // a bad line: false
  // Null when there is none, or when the import failed (failure_ set).
  Person* FindPerson(const std::string& key);
  Person* FindBySwab(const std::string& swab_id);
  std::string IdOf(const std::string& key);  // the person id of a key, else the key
  // Records a failure of the spill file: false.
  bool Failed(const eventstore::StoreError& e);
  bool RunPerson(uint64_t number, ImportLine& line);
  bool RunSchool(uint64_t number, ImportLine& line);
  // Adds to the bulk import; the store's refusal, if any.
  std::optional<eventstore::StoreError> Append(eventstore::AppendRequest request, domain::Timestamp at);

  const domain::ReferenceData& reference_;
  const eventstore::EventStore& store_;
  eventstore::BulkImport& bulk_;
  bool store_empty_ = true;
  ImportPeople& people_;  // by export key and swab id
  std::optional<eventstore::StoreError> failure_;
  std::unordered_map<std::string, domain::SchoolState> schools_;
  domain::Timestamp last_at_;
  std::vector<LineError> errors_;
  uint64_t bad_lines_ = 0;
  size_t max_errors_ = 50;
};

}  // namespace caseledger::app
