// The free-space floor: writes are refused (kNoSpace, 507 at the API) while the volume
// holding a database has less than a configured number of bytes available, so that a
// filling disk stops new data before RocksDB meets ENOSPC mid-write (after which only a
// reopen may write again). Once space is freed above the floor, writes are accepted again
// without a restart. The functions are thread-safe (a statvfs(2) per call, no state);
// FreeSpaceGate is one writer's, looking at the disk less often.
#pragma once

#include "eventstore/event_store.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace caseledger::eventstore {

// Bytes an unprivileged writer may still use on the volume holding `path` (statvfs
// f_bavail * f_frsize); kIo when `path` cannot be examined.
StoreResult<uint64_t> AvailableBytes(const std::string& path);

// kNoSpace naming `what`, the bytes available and the floor when the volume holding
// `path` has fewer than `min_free_bytes` available; nullopt when it has enough, when
// `min_free_bytes` is 0 (no floor) or when the volume cannot be examined (the write then
// meets whatever the disk says).
std::optional<StoreError> BelowFreeSpaceFloor(const std::string& path, uint64_t min_free_bytes,
                                              const std::string& what);

// How long a look at the disk stands for the group commit: a volume filled by someone
// else is seen within this time.
inline constexpr std::chrono::milliseconds kFreeSpaceRecheck{20};

// The floor as one writer checks it before each write: statvfs(2) at most once per
// kFreeSpaceRecheck, and at once when what this writer wrote since the last look could
// have used a quarter of the room it saw above the floor (so its own writes never pass
// the floor unseen), or when the last look refused or could not look. A group commit
// under load looked at the disk before every group (a statvfs per ~1 ms sync); now once
// per 20 ms. Not thread-safe: one writer's.
class FreeSpaceGate {
 public:
  // `available` looks at the volume (AvailableBytes; tests count the looks).
  using Look = std::function<StoreResult<uint64_t>(const std::string& path)>;
  FreeSpaceGate(std::string path, uint64_t min_free_bytes, std::string what, Look available = AvailableBytes)
      : path_(std::move(path)), min_free_bytes_(min_free_bytes), what_(std::move(what)), available_(std::move(available)) {}

  // As BelowFreeSpaceFloor, for a write of `bytes`.
  std::optional<StoreError> Check(uint64_t bytes);

 private:
  std::string path_;
  uint64_t min_free_bytes_;
  std::string what_;
  Look available_;
  std::chrono::steady_clock::time_point looked_at_{};
  uint64_t room_ = 0;           // available - floor at the last look; 0: look next time
  uint64_t written_since_ = 0;  // bytes passed since the last look
};

}  // namespace caseledger::eventstore
