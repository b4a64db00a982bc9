#include "eventstore/disk_space.h"

#include <sys/statvfs.h>

#include <cerrno>
#include <cstring>

namespace caseledger::eventstore {

StoreResult<uint64_t> AvailableBytes(const std::string& path) {
  struct statvfs st {};
  if (::statvfs(path.c_str(), &st) != 0) {
    return StoreError(StoreErrorCode::kIo, "statvfs " + path + ": " + std::strerror(errno));
  }
  return uint64_t{st.f_bavail} * uint64_t{st.f_frsize};
}

std::optional<StoreError> BelowFreeSpaceFloor(const std::string& path, uint64_t min_free_bytes,
                                              const std::string& what) {
  if (min_free_bytes == 0) return std::nullopt;
  auto available = AvailableBytes(path);
  if (!available || *available >= min_free_bytes) return std::nullopt;
  return StoreError(StoreErrorCode::kNoSpace,
                    what + ": " + std::to_string(*available) + " bytes free on its volume, below the floor of " +
                        std::to_string(min_free_bytes) + " (--min-free-bytes); writes resume once space is freed");
}

}  // namespace caseledger::eventstore
