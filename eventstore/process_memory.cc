#include "eventstore/process_memory.h"

#include <dlfcn.h>
#include <malloc.h>
#include <unistd.h>

#include <bit>
#include <cstddef>
#include <cstdio>

namespace caseledger::eventstore {
namespace {

// jemalloc's control interface, looked up once in the symbols the process has loaded.
using MallctlFn = int (*)(const char*, void*, size_t*, void*, size_t);

MallctlFn Mallctl() {
  static const MallctlFn fn = reinterpret_cast<MallctlFn>(dlsym(RTLD_DEFAULT, "mallctl"));
  return fn;
}

// "arena.<MALLCTL_ARENAS_ALL>" and "stats.arenas.<MALLCTL_ARENAS_ALL>": every arena at once.
constexpr const char* kPurgeAll = "arena.4096.purge";
constexpr const char* kDirtyPagesAll = "stats.arenas.4096.pdirty";

uint64_t ReadSize(MallctlFn mallctl, const char* name) {
  size_t value = 0, size = sizeof(value);
  return mallctl(name, &value, &size, nullptr, 0) == 0 ? value : 0;
}

}  // namespace

uint64_t ResidentSetBytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long size = 0, resident = 0;
  const bool read = std::fscanf(f, "%lu %lu", &size, &resident) == 2;
  std::fclose(f);
  return read ? uint64_t{resident} * static_cast<uint64_t>(sysconf(_SC_PAGESIZE)) : 0;
}

AllocatorStats ReadAllocatorStats() {
  AllocatorStats out;
  MallctlFn mallctl = Mallctl();
  if (mallctl == nullptr) {
    out.resident = ResidentSetBytes();
    return out;
  }
  // The statistics are a snapshot taken when the epoch is advanced.
  uint64_t epoch = 1;
  size_t epoch_size = sizeof(epoch);
  (void)mallctl("epoch", &epoch, &epoch_size, &epoch, epoch_size);
  out.jemalloc = true;
  out.allocated = ReadSize(mallctl, "stats.allocated");
  out.active = ReadSize(mallctl, "stats.active");
  out.resident = ReadSize(mallctl, "stats.resident");
  out.retained = ReadSize(mallctl, "stats.retained");
  out.dirty = ReadSize(mallctl, kDirtyPagesAll) * ReadSize(mallctl, "arenas.page");
  return out;
}

void ReleaseFreeMemory() {
  if (MallctlFn mallctl = Mallctl()) {
    (void)mallctl(kPurgeAll, nullptr, nullptr, nullptr, 0);
    return;
  }
  (void)malloc_trim(0);
}

size_t AllocatedBytes(size_t n) {
  if (n == 0) return 0;
  if (n <= 8) return 8;
  if (n <= 128) return (n + 15) & ~size_t{15};
  // Four classes per doubling: the step is a quarter of the power of two below n.
  const size_t step = std::bit_floor(n - 1) / 4;
  return (n + step - 1) / step * step;
}

}  // namespace caseledger::eventstore
