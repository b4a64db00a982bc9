// The school registry (audit finding 4, docs/security.md): the municipality each school is
// in. A school code (codice meccanografico) names only its province, and ASLs cross
// province borders, so an operator's scope over a school (class quarantines, the school
// view) is the ASL of the municipality this registry gives; a school it does not hold is
// no operator's.
//
// The registry is reference data, like the municipality and ASL tables: the CSV file
// DATA_DIR/schools.csv, either two columns `school,istat` or the Ministry of Education's
// open-data "anagrafe scuole" file as published (columns CODICESCUOLA and
// CODICECOMUNESCUOLA, the municipality's Belfiore code). It is read again whenever it
// changes, so a deployment updates it without a restart. Rows that do not fit (an unknown
// municipality, a municipality outside the province the code names) are left out and
// counted in the log.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include "domain/error.h"
#include "domain/reference.h"

#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace caseledger::api {

struct SchoolTable {
  std::unordered_map<std::string, std::string> places;  // school code -> ISTAT code
  size_t rows_left_out = 0;
  std::string first_left_out;  // why the first row left out was
};

// Parses a registry file (see above). Errors only for a file of neither form.
domain::Result<SchoolTable> ParseSchoolRegistry(std::string_view csv, const domain::ReferenceData& ref);

class SchoolRegistry {
 public:
  SchoolRegistry(std::string path, std::shared_ptr<const domain::ReferenceData> ref)
      : path_(std::move(path)), ref_(std::move(ref)) {}

  // The ISTAT code of the school's municipality; "" when the registry does not hold it.
  std::string MunicipalityOf(const std::string& school);
  // Every school held, with its municipality.
  std::map<std::string, std::string> All();

 private:
  void Reload();  // REQUIRES: mu_ held

  const std::string path_;
  const std::shared_ptr<const domain::ReferenceData> ref_;
  std::mutex mu_;
  timespec loaded_mtime_{};  // of the file as last read; {} when none was
  off_t loaded_size_ = -1;
  std::unordered_map<std::string, std::string> places_;
};

}  // namespace caseledger::api
