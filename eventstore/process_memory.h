// The process's memory as the allocator and the kernel see it, and a way to hand freed
// memory back: for the memory budget (serve --memory-budget, docs/operations.md) and
// /metrics.
//
// The allocator is found at run time: `caseledger` links jemalloc (CMakeLists.txt), tests
// and sanitizer builds do not, so everything here works, with fewer figures, without it.
// Thread safety: every function may be called from any thread.
#pragma once

#include <cstddef>
#include <cstdint>

namespace caseledger::eventstore {

struct AllocatorStats {
  bool jemalloc = false;    // the figures below are jemalloc's; false: only `resident` is known
  uint64_t allocated = 0;   // bytes the program holds (malloc'd and not freed)
  uint64_t active = 0;      // in pages the allocator has handed out (allocated + fragmentation)
  uint64_t dirty = 0;       // freed pages still resident, not yet returned to the kernel
  uint64_t resident = 0;    // the allocator's resident pages (its metadata included)
  uint64_t retained = 0;    // address space kept for reuse, not resident
};

// jemalloc's statistics (refreshed by this call), or, without jemalloc, only `resident`
// (the process's VmRSS).
AllocatorStats ReadAllocatorStats();

// The size jemalloc hands out for a request of `n` bytes (its size classes: 16-byte steps
// up to 128, then four classes per doubling; 0 for 0): what the caches that keep their
// bytes within a budget count per allocation (the views' person records, the API's person
// cache).
size_t AllocatedBytes(size_t n);

// The process's resident set (VmRSS), bytes; 0 if /proc cannot be read.
uint64_t ResidentSetBytes();

// Returns the pages freed memory still occupies to the kernel now (jemalloc: every
// arena's dirty and muzzy pages purged; glibc: malloc_trim). For after a large transient
// working set (a catch-up of the views from scratch, a what-if), whose freed pages would
// otherwise stay resident until the allocator decays them, which an idle process may
// never do.
void ReleaseFreeMemory();

}  // namespace caseledger::eventstore
