#include "replay/views_pointer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace caseledger::replay {
namespace {

using eventstore::StoreError;
using eventstore::StoreErrorCode;

constexpr char kPointerFile[] = "/views.live";

StoreError Io(const std::string& what) {
  return StoreError(StoreErrorCode::kIo, what + ": " + std::strerror(errno));
}

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
  const std::string path = data_dir + kPointerFile;
  const std::string tmp = path + ".tmp";
  const std::string line = p.dir + " " + std::to_string(p.rules_position) + "\n";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Io("open " + tmp);
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  int saved = errno;
  ::close(fd);
  errno = saved;
  if (!ok) return Io("write " + tmp);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return Io("rename " + tmp);
  // The rename is durable only once the directory entry is.
  int dir = ::open(data_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return Io("open " + data_dir);
  ok = ::fsync(dir) == 0;
  saved = errno;
  ::close(dir);
  errno = saved;
  if (!ok) return Io("fsync " + data_dir);
  return {};
}

}  // namespace caseledger::replay
