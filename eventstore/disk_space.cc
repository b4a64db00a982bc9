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

namespace {

StoreError BelowFloor(uint64_t available, uint64_t min_free_bytes, const std::string& what) {
  return StoreError(StoreErrorCode::kNoSpace,
                    what + ": " + std::to_string(available) + " bytes free on its volume, below the floor of " +
                        std::to_string(min_free_bytes) + " (--min-free-bytes); writes resume once space is freed");
}

}  // namespace

std::optional<StoreError> BelowFreeSpaceFloor(const std::string& path, uint64_t min_free_bytes,
                                              const std::string& what) {
  if (min_free_bytes == 0) return std::nullopt;
  auto available = AvailableBytes(path);
  if (!available || *available >= min_free_bytes) return std::nullopt;
  return BelowFloor(*available, min_free_bytes, what);
}

std::optional<StoreError> FreeSpaceGate::Check(uint64_t bytes) {
  if (min_free_bytes_ == 0) return std::nullopt;
  const auto now = std::chrono::steady_clock::now();
  written_since_ += bytes;
  if (room_ > 0 && now - looked_at_ < kFreeSpaceRecheck && written_since_ <= room_ / 4) return std::nullopt;
  looked_at_ = now;
  written_since_ = bytes;
  room_ = 0;
  auto available = available_(path_);
  if (!available) return std::nullopt;  // the write meets whatever the disk says
  if (*available < min_free_bytes_) return BelowFloor(*available, min_free_bytes_, what_);
  room_ = *available - min_free_bytes_;
  return std::nullopt;
}

}  // namespace caseledger::eventstore
