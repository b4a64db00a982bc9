#include "projections/views_pointer.h"

#include "eventstore/file_write.h"

#include <cctype>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace caseledger::projections {
namespace {

using eventstore::StoreError;
using eventstore::StoreErrorCode;

constexpr char kPointerFile[] = "/views.live";

bool SafeDirName(const std::string& d) {
  if (d.empty() || d == "." || d == "..") return false;
  for (char c : d) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
  }
  return true;
}

}  // namespace

std::string ViewsDirFor(uint64_t rules_position) {
  char name[40];
  std::snprintf(name, sizeof name, "views-r%012llu", static_cast<unsigned long long>(rules_position));
  return name;
}

eventstore::StoreResult<std::optional<ViewsPointer>> ReadViewsPointer(const std::string& data_dir) {
  std::ifstream in(data_dir + kPointerFile);
  if (!in) return std::optional<ViewsPointer>();
  ViewsPointer p;
  std::string extra;
  if (!(in >> p.dir >> p.rules_position) || (in >> extra) || !SafeDirName(p.dir)) {
    return StoreError(StoreErrorCode::kCorruption, data_dir + kPointerFile + " does not parse");
  }
  return std::optional<ViewsPointer>(p);
}

eventstore::StoreResult<void> WriteViewsPointer(const std::string& data_dir, const ViewsPointer& p) {
  if (!SafeDirName(p.dir)) return StoreError(StoreErrorCode::kInvalidArgument, "bad views dir " + p.dir);
  const std::string line = p.dir + " " + std::to_string(p.rules_position) + "\n";
  auto written = eventstore::WriteFileAtomically(data_dir + kPointerFile, line);
  if (!written) return written.error();
  return {};
}

}  // namespace caseledger::projections
