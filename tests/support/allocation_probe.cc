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

// The replaceable global allocation functions ([new.delete.single], [new.delete.array]).
// The standard library's array and nothrow forms would call the single ones, but
// AddressSanitizer intercepts every form that is not replaced: memory from its nothrow new
// (std::stable_sort's buffer) then met the free() below, an alloc-dealloc mismatch that
// aborted the ASan build. So every form is replaced, each pair on malloc/free.
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
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return ::operator new(size);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t size) { return ::operator new(size); }
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept { return ::operator new(size, tag); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
