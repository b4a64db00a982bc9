// Reference tables: ISTAT municipalities (with population and Belfiore code) and the
// municipality -> ASL map for Piedmont. Parsed from CSV text handed in by the caller, so
// the domain stays free of file I/O.
#pragma once

#include "domain/error.h"
#include "domain/string_hash.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>

namespace caseledger::domain {

struct Municipality {
  std::string istat_code;      // 6 digits, e.g. "001272" (Torino)
  std::string name;            // "Torino"
  std::string province_code;   // "001"
  std::string province_abbr;   // "TO"
  std::string region_code;     // "01" (Piemonte)
  std::string cadastral_code;  // Belfiore code, e.g. "L219"
  int64_t population = 0;
  std::string asl;             // ASL code ("TO", "TO3", ..., "AL"); empty outside Piedmont
};

struct Asl {
  std::string code;  // "TO" (Città di Torino), "TO3", "TO4", "TO5", "VC", "BI", "NO", "VCO", "CN1", "CN2", "AT", "AL"
  std::string name;  // "ASL Città di Torino"
};

// Immutable after construction; safe to share between threads.
class ReferenceData {
 public:
  // `comuni_csv`: the text of ops/reference/istat-comuni.csv (header
  // istat_code,name,province_code,province_abbr,province_name,region_code,region_name,
  // cadastral_code,population). `asl_csv`: the text of ops/reference/piemonte-asl.csv
  // (header istat_code,asl_code,asl_name). Errors name the line that is wrong.
  static Result<std::shared_ptr<const ReferenceData>> Parse(std::string_view comuni_csv,
                                                            std::string_view asl_csv);

  const Municipality* FindMunicipality(std::string_view istat_code) const;
  const Municipality* FindByCadastralCode(std::string_view belfiore) const;
  const std::vector<Municipality>& municipalities() const { return municipalities_; }
  const std::vector<Asl>& asls() const { return asls_; }
  // Municipalities of one ASL, in ISTAT-code order.
  std::vector<const Municipality*> MunicipalitiesOfAsl(std::string_view asl_code) const;

 private:
  // Looked up by string_view without a key of their own: every command and read asks for
  // a municipality (its ASL) at least once. Open addressing keeps a look-up in one or two
  // cache lines, where a node map chased a bucket, a node and its string (~1 % of a person
  // query's CPU).
  using CodeIndex = boost::unordered_flat_map<std::string, size_t, StringHash, std::equal_to<>>;

  std::vector<Municipality> municipalities_;
  std::vector<Asl> asls_;
  CodeIndex by_istat_;
  CodeIndex by_cadastral_;
};

}  // namespace caseledger::domain
