#include "app/reference_files.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace caseledger::app {
namespace {

// The Debian package's layout (ops/package): /usr/share/caseledger/{reference,rules}.
constexpr char kInstalledShare[] = "/usr/share/caseledger/";

std::string DefaultDir(const std::string& name) {
  if (const char* home = std::getenv("CASELEDGER_HOME")) return std::string(home) + "/ops/" + name;
  std::error_code ec;
  if (std::filesystem::is_directory(std::string(CASELEDGER_SOURCE_DIR) + "/ops/reference", ec)) {
    return std::string(CASELEDGER_SOURCE_DIR) + "/ops/" + name;
  }
  return kInstalledShare + name;
}

domain::Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return domain::Error::Invalid("file", "cannot read " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

std::string DefaultReferenceDir() { return DefaultDir("reference"); }
std::string DefaultRulesDir() { return DefaultDir("rules"); }

domain::Result<std::shared_ptr<const domain::ReferenceData>> LoadReferenceData(const std::string& dir) {
  auto comuni = ReadFile(dir + "/istat-comuni.csv");
  if (!comuni) return comuni.error();
  auto asl = ReadFile(dir + "/piemonte-asl.csv");
  if (!asl) return asl.error();
  return domain::ReferenceData::Parse(*comuni, *asl);
}

domain::Result<domain::RuleBook> LoadRuleBook(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path().string());
  }
  if (ec) return domain::Error::Invalid("rules", "cannot list " + dir + ": " + ec.message());
  std::sort(files.begin(), files.end());
  domain::RuleBook book;
  for (const std::string& f : files) {
    auto text = ReadFile(f);
    if (!text) return text.error();
    auto set = domain::RuleSet::Parse(*text);
    if (!set) {
      domain::Error e = set.error();
      e.message = f + ": " + e.message;
      return e;
    }
    auto added = book.Add(std::move(*set));
    if (!added) return added.error();
  }
  return book;
}

}  // namespace caseledger::app
