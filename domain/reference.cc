#include "domain/reference.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <unordered_map>
#include <utility>

namespace caseledger::domain {
namespace {

// The twelve ASLs of Piedmont in the order the registry lists them (Turin first,
// then the north-east, Cuneo, Asti, Alessandria: the order of the regional bulletin).
constexpr std::array<std::pair<std::string_view, std::string_view>, 12> kAsls = {{
    {"TO", "ASL Città di Torino"},
    {"TO3", "ASL TO3"},
    {"TO4", "ASL TO4"},
    {"TO5", "ASL TO5"},
    {"VC", "ASL VC"},
    {"BI", "ASL BI"},
    {"NO", "ASL NO"},
    {"VCO", "ASL VCO"},
    {"CN1", "ASL CN1"},
    {"CN2", "ASL CN2"},
    {"AT", "ASL AT"},
    {"AL", "ASL AL"},
}};

constexpr std::string_view kPiedmont = "01";

struct Record {
  int line = 0;  // 1-based line on which the record starts
  std::vector<std::string> fields;
};

Error LineError(std::string_view source, int line, const std::string& what) {
  return Error::Invalid(std::string(source) + " line " + std::to_string(line),
                        "line " + std::to_string(line) + ": " + what);
}

bool IsLineEnd(char c) { return c == '\n' || c == '\r'; }

// Splits RFC 4180 text into records: fields separated by commas, optionally quoted
// (a quote inside a quoted field is doubled; quoted fields may hold commas and line
// breaks). LF, CRLF or CR end a record; empty lines and a UTF-8 BOM are ignored.
Result<std::vector<Record>> ReadCsv(std::string_view text, std::string_view source) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  std::vector<Record> records;
  size_t i = 0;
  int line = 1;
  while (i < text.size()) {
    Record record{line, {}};
    while (true) {
      std::string field;
      if (i < text.size() && text[i] == '"') {
        ++i;
        while (true) {
          if (i >= text.size()) return LineError(source, record.line, "unterminated quoted field");
          char c = text[i++];
          if (c == '"') {
            if (i < text.size() && text[i] == '"') {
              field += '"';
              ++i;
              continue;
            }
            break;
          }
          if (c == '\n') ++line;
          field += c;
        }
        if (i < text.size() && text[i] != ',' && !IsLineEnd(text[i])) {
          return LineError(source, line, "unexpected character after a closing quote");
        }
      } else {
        while (i < text.size() && text[i] != ',' && !IsLineEnd(text[i])) {
          if (text[i] == '"') return LineError(source, line, "quote inside an unquoted field");
          field += text[i++];
        }
      }
      record.fields.push_back(std::move(field));
      if (i < text.size() && text[i] == ',') {
        ++i;
        continue;
      }
      break;
    }
    if (i < text.size() && text[i] == '\r') ++i;
    if (i < text.size() && text[i] == '\n') ++i;
    ++line;
    bool blank = record.fields.size() == 1 && record.fields[0].empty();
    if (!blank) records.push_back(std::move(record));
  }
  return records;
}

bool IsDigits(std::string_view s, size_t n) {
  return s.size() == n &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Belfiore (cadastral) code: an uppercase letter and three digits, e.g. "L219".
bool IsCadastralCode(std::string_view s) {
  return s.size() == 4 && s[0] >= 'A' && s[0] <= 'Z' && IsDigits(s.substr(1), 3);
}

std::optional<int64_t> ParsePopulation(std::string_view s) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || value < 0)
    return std::nullopt;
  return value;
}

Result<std::vector<Record>> ReadTable(std::string_view text, std::string_view source,
                                      const std::vector<std::string>& header) {
  auto records = ReadCsv(text, source);
  if (!records) return records.error();
  if (records->empty()) return LineError(source, 1, "missing header");
  const Record& first = records->front();
  if (first.fields != header) {
    std::string expected;
    for (const auto& h : header) expected += (expected.empty() ? "" : ",") + h;
    return LineError(source, first.line, "header must be " + expected);
  }
  for (const Record& r : *records) {
    if (r.fields.size() != header.size()) {
      return LineError(source, r.line,
                       "expected " + std::to_string(header.size()) + " fields, got " +
                           std::to_string(r.fields.size()));
    }
  }
  records->erase(records->begin());
  return records;
}

// Checks one row of istat-comuni.csv and turns it into a Municipality.
Result<Municipality> ParseMunicipality(const Record& r) {
  constexpr std::string_view kSource = "comuni_csv";
  const auto& f = r.fields;
  Municipality m;
  m.istat_code = f[0];
  m.name = f[1];
  m.province_code = f[2];
  m.province_abbr = f[3];
  m.region_code = f[5];
  m.cadastral_code = f[7];
  if (!IsDigits(m.istat_code, 6)) return LineError(kSource, r.line, "ISTAT code must be 6 digits");
  if (m.name.empty()) return LineError(kSource, r.line, "empty municipality name");
  if (!IsDigits(m.province_code, 3) || m.istat_code.substr(0, 3) != m.province_code) {
    return LineError(kSource, r.line, "province code must be the first 3 digits of the ISTAT code");
  }
  if (m.province_abbr.empty()) return LineError(kSource, r.line, "empty province abbreviation");
  if (!IsDigits(m.region_code, 2))
    return LineError(kSource, r.line, "region code must be 2 digits");
  if (!IsCadastralCode(m.cadastral_code)) {
    return LineError(kSource, r.line, "cadastral code must be a letter and 3 digits");
  }
  auto population = ParsePopulation(f[8]);
  if (!population) return LineError(kSource, r.line, "population must be a non-negative integer");
  m.population = *population;
  return m;
}

std::optional<std::string_view> AslName(std::string_view code) {
  for (const auto& [c, name] : kAsls) {
    if (c == code) return name;
  }
  return std::nullopt;
}

}  // namespace

Result<std::shared_ptr<const ReferenceData>> ReferenceData::Parse(std::string_view comuni_csv,
                                                                  std::string_view asl_csv) {
  auto comuni = ReadTable(comuni_csv, "comuni_csv",
                          {"istat_code", "name", "province_code", "province_abbr", "province_name",
                           "region_code", "region_name", "cadastral_code", "population"});
  if (!comuni) return comuni.error();
  auto asl_rows = ReadTable(asl_csv, "asl_csv", {"istat_code", "asl_code", "asl_name"});
  if (!asl_rows) return asl_rows.error();

  auto data = std::make_shared<ReferenceData>();
  for (const auto& [code, name] : kAsls)
    data->asls_.push_back(Asl{std::string(code), std::string(name)});

  std::unordered_map<std::string, int> line_of;  // ISTAT code -> line, for duplicate errors
  std::unordered_map<std::string, int> line_of_cadastral;
  for (const Record& r : *comuni) {
    auto m = ParseMunicipality(r);
    if (!m) return m.error();
    if (auto [it, fresh] = line_of.emplace(m->istat_code, r.line); !fresh) {
      return LineError("comuni_csv", r.line,
                       "duplicate ISTAT code " + m->istat_code + " (first on line " +
                           std::to_string(it->second) + ")");
    }
    if (auto [it, fresh] = line_of_cadastral.emplace(m->cadastral_code, r.line); !fresh) {
      return LineError("comuni_csv", r.line,
                       "duplicate cadastral code " + m->cadastral_code + " (first on line " +
                           std::to_string(it->second) + ")");
    }
    data->municipalities_.push_back(std::move(*m));
  }
  std::sort(
      data->municipalities_.begin(), data->municipalities_.end(),
      [](const Municipality& a, const Municipality& b) { return a.istat_code < b.istat_code; });
  for (size_t i = 0; i < data->municipalities_.size(); ++i) {
    data->by_istat_.emplace(data->municipalities_[i].istat_code, i);
    data->by_cadastral_.emplace(data->municipalities_[i].cadastral_code, i);
  }

  for (const Record& r : *asl_rows) {
    const std::string& istat = r.fields[0];
    const std::string& code = r.fields[1];
    auto it = data->by_istat_.find(istat);
    if (it == data->by_istat_.end()) {
      return LineError("asl_csv", r.line, "unknown ISTAT code " + istat);
    }
    Municipality& m = data->municipalities_[it->second];
    if (m.region_code != kPiedmont) {
      return LineError("asl_csv", r.line, "municipality " + istat + " is not in Piedmont");
    }
    auto name = AslName(code);
    if (!name) return LineError("asl_csv", r.line, "unknown ASL code " + code);
    if (r.fields[2] != *name) {
      return LineError(
          "asl_csv", r.line,
          "ASL " + code + " is named \"" + std::string(*name) + "\", not \"" + r.fields[2] + "\"");
    }
    if (!m.asl.empty()) return LineError("asl_csv", r.line, "second ASL for ISTAT code " + istat);
    m.asl = code;
  }
  for (const Municipality& m : data->municipalities_) {
    if (m.region_code == kPiedmont && m.asl.empty()) {
      return Error::Invalid(
          "asl_csv", "Piedmont municipality " + m.istat_code + " (" + m.name + ") has no ASL");
    }
  }
  return std::shared_ptr<const ReferenceData>(std::move(data));
}

const Municipality* ReferenceData::FindMunicipality(std::string_view istat_code) const {
  auto it = by_istat_.find(istat_code);
  return it == by_istat_.end() ? nullptr : &municipalities_[it->second];
}

const Municipality* ReferenceData::FindByCadastralCode(std::string_view belfiore) const {
  auto it = by_cadastral_.find(belfiore);
  return it == by_cadastral_.end() ? nullptr : &municipalities_[it->second];
}

std::vector<const Municipality*> ReferenceData::MunicipalitiesOfAsl(
    std::string_view asl_code) const {
  std::vector<const Municipality*> out;
  if (asl_code.empty()) return out;
  for (const Municipality& m : municipalities_) {
    if (m.asl == asl_code) out.push_back(&m);
  }
  return out;
}

}  // namespace caseledger::domain
