#include "tests/support/allocation_probe.h"

#include <atomic>
#include <cstdlib>
#include <new>

namespace caseledger::testing {
namespace {

constexpr std::size_t kLarge = 1 << 20;
std::atomic<uint64_t> large_bytes{0};

}  // namespace

uint64_t LargeAllocatedBytes() { return large_bytes.load(std::memory_order_relaxed); }

}  // namespace caseledger::testing

// The replaceable global allocation functions ([new.delete.single]); the array and
// nothrow forms of the standard library call these.
void* operator new(std::size_t size) {
  if (size >= caseledger::testing::kLarge) {
    caseledger::testing::large_bytes.fetch_add(size, std::memory_order_relaxed);
  }
  for (;;) {
    if (void* p = std::malloc(size ? size : 1)) return p;
    std::new_handler handler = std::get_new_handler();
    if (!handler) throw std::bad_alloc();
    handler();
  }
}

void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
