// The decide stage of `caseledger import` (docs/import.md): each line of a legacy export,
// in order, through the domain's Decide against the state of its person (or school), and
// the decision into a bulk import (eventstore/bulk_import.h) as the command routes would
// append it. A line that Decide or the store would refuse is reported with its line number
// and field; the import is then refused whole (never committed), but the lines after it
// are still checked, so one run reports them all.
#pragma once

#include "app/import_lines.h"
#include "domain/person.h"
#include "domain/reference.h"
#include "domain/school.h"
#include "eventstore/bulk_import.h"

#include <cstdint>
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
  // `bulk` receives the appends. Both must outlive this object.
  LegacyImport(const domain::ReferenceData& reference, const eventstore::EventStore& store,
               eventstore::BulkImport& bulk);

  // Decides and adds line `number`, parsed (or the parse error). False when it is bad
  // (recorded in errors()).
  bool Apply(uint64_t number, domain::Result<ImportLine> parsed);

  const std::vector<LineError>& errors() const { return errors_; }  // the first max_errors
  uint64_t bad_lines() const { return bad_lines_; }
  uint64_t people() const { return people_.size(); }
  void set_max_errors(size_t n) { max_errors_ = n; }
  // Export keys that were not caseledger person ids, with the id each person got.
  std::vector<std::pair<std::string, std::string>> DerivedIds() const;

 private:
  struct Person {
    std::string id;
    domain::PersonState state;
    uint64_t line = 0;  // of the registration
  };

  void Report(uint64_t line, std::string field, std::string message);  // one more error of a bad line
  bool Fail(uint64_t line, std::string field, std::string message);    // a bad line: false
  Person* FindPerson(const std::string& key);
  Person* FindBySwab(const std::string& swab_id);
  std::string IdOf(const std::string& key) const;  // the person id of a key, else the key
  bool RunPerson(uint64_t number, ImportLine& line);
  bool RunSchool(uint64_t number, ImportLine& line);
  // Adds to the bulk import; the store's refusal, if any.
  std::optional<eventstore::StoreError> Append(eventstore::AppendRequest request, domain::Timestamp at);

  const domain::ReferenceData& reference_;
  const eventstore::EventStore& store_;
  eventstore::BulkImport& bulk_;
  bool store_empty_ = true;
  std::unordered_map<std::string, Person> people_;   // by export key
  std::unordered_map<std::string, Person*> swabs_;   // by swab id
  std::unordered_map<std::string, domain::SchoolState> schools_;
  domain::Timestamp last_at_;
  std::vector<LineError> errors_;
  uint64_t bad_lines_ = 0;
  size_t max_errors_ = 50;
};

}  // namespace caseledger::app
