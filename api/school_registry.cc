#include "api/school_registry.h"

#include "api/api_logger.h"
#include "domain/validation.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <vector>

namespace caseledger::api {
namespace {

std::vector<std::string> Cells(std::string_view line, char sep) {
  std::vector<std::string> out;
  std::string cell;
  bool quoted = false;
  for (char c : line) {
    if (c == '"') {
      quoted = !quoted;
    } else if (c == sep && !quoted) {
      out.push_back(std::move(cell));
      cell.clear();
    } else if (c != '\r') {
      cell.push_back(c);
    }
  }
  out.push_back(std::move(cell));
  return out;
}

}  // namespace

domain::Result<SchoolTable> ParseSchoolRegistry(std::string_view csv, const domain::ReferenceData& ref) {
  SchoolTable table;
  std::istringstream in{std::string(csv)};
  std::string line;
  if (!std::getline(in, line)) return table;  // an empty file: no school
  if (line.starts_with("\xEF\xBB\xBF")) line.erase(0, 3);
  const char sep = line.find(';') != std::string::npos && line.find(',') == std::string::npos ? ';' : ',';
  const std::vector<std::string> header = Cells(line, sep);
  int school_col = -1, istat_col = -1, belfiore_col = -1;
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == "school" || header[i] == "CODICESCUOLA") school_col = int(i);
    if (header[i] == "istat") istat_col = int(i);
    if (header[i] == "CODICECOMUNESCUOLA") belfiore_col = int(i);
  }
  if (school_col < 0 || (istat_col < 0 && belfiore_col < 0)) {
    return domain::Error::Invalid("schools.csv",
                                  "the header must name school,istat or CODICESCUOLA,CODICECOMUNESCUOLA");
  }
  size_t number = 1;
  auto leave_out = [&](const std::string& why) {
    if (table.rows_left_out++ == 0) table.first_left_out = "line " + std::to_string(number) + ": " + why;
  };
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || line == "\r") continue;
    const std::vector<std::string> cells = Cells(line, sep);
    auto at = [&](int col) { return col >= 0 && size_t(col) < cells.size() ? cells[col] : std::string(); };
    auto code = domain::ValidateSchoolCode(at(school_col), "school");
    const domain::Municipality* m =
        istat_col >= 0 ? ref.FindMunicipality(at(istat_col)) : ref.FindByCadastralCode(at(belfiore_col));
    if (!code) {
      leave_out("not a school code: " + at(school_col));
    } else if (!m) {
      leave_out("unknown municipality for " + *code);
    } else if (code->substr(0, 2) != m->province_abbr) {
      leave_out(*code + " names the province " + code->substr(0, 2) + ", but " + m->name + " is in " +
                m->province_abbr);
    } else {
      table.places[*code] = m->istat_code;
    }
  }
  return table;
}

void SchoolRegistry::Reload() {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) {
    if (loaded_size_ >= 0) ApiLog()->warn("school registry {} is gone: no school is any operator's", path_);
    places_.clear();
    loaded_size_ = -1;
    loaded_mtime_ = {};
    return;
  }
  if (st.st_mtim.tv_sec == loaded_mtime_.tv_sec && st.st_mtim.tv_nsec == loaded_mtime_.tv_nsec &&
      st.st_size == loaded_size_) {
    return;
  }
  std::ifstream file(path_, std::ios::binary);
  std::stringstream text;
  text << file.rdbuf();
  auto table = ParseSchoolRegistry(text.str(), *ref_);
  loaded_mtime_ = st.st_mtim;
  loaded_size_ = st.st_size;
  if (!table) {
    // Keep what was read before: a half-written or wrong file must not take schools away.
    ApiLog()->error("school registry {}: {}; keeping the {} schools read before", path_, table.error().message,
                    places_.size());
    return;
  }
  places_ = std::move(table->places);
  ApiLog()->info("school registry {}: {} schools", path_, places_.size());
  if (table->rows_left_out > 0) {
    ApiLog()->warn("school registry {}: {} rows left out ({})", path_, table->rows_left_out, table->first_left_out);
  }
}

std::string SchoolRegistry::MunicipalityOf(const std::string& school) {
  std::lock_guard lock(mu_);
  Reload();
  auto it = places_.find(school);
  return it == places_.end() ? "" : it->second;
}

std::map<std::string, std::string> SchoolRegistry::All() {
  std::lock_guard lock(mu_);
  Reload();
  return {places_.begin(), places_.end()};
}

}  // namespace caseledger::api
