// The free-space floor: writes are refused (kNoSpace, 507 at the API) while the volume
// holding a database has less than a configured number of bytes available, so that a
// filling disk stops new data before RocksDB meets ENOSPC mid-write (after which only a
// reopen may write again). Once space is freed above the floor, writes are accepted again
// without a restart. Thread-safe: a statvfs(2) per call, no state.
#pragma once

#include "eventstore/event_store.h"

#include <cstdint>
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

}  // namespace caseledger::eventstore
