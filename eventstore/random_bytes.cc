#include "eventstore/random_bytes.h"

#include <sodium.h>

#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <cstring>

namespace caseledger::eventstore {
namespace {

std::atomic<uint64_t> fork_generation{0};

}  // namespace

void RandomBytes(unsigned char* out, size_t n) {
  struct Pool {
    unsigned char bytes[4096];
    size_t used = sizeof bytes;
    uint64_t generation = 0;
    ~Pool() { sodium_memzero(bytes, sizeof bytes); }
  };
  static const bool registered = [] {
    pthread_atfork(nullptr, nullptr, [] { fork_generation.fetch_add(1, std::memory_order_relaxed); });
    return true;
  }();
  (void)registered;
  thread_local Pool pool;
  if (n > sizeof pool.bytes / 4) {
    randombytes_buf(out, n);
    return;
  }
  const uint64_t generation = fork_generation.load(std::memory_order_relaxed);
  if (sizeof pool.bytes - pool.used < n || pool.generation != generation) {
    randombytes_buf(pool.bytes, sizeof pool.bytes);
    pool.used = 0;
    pool.generation = generation;
  }
  std::memcpy(out, pool.bytes + pool.used, n);
  sodium_memzero(pool.bytes + pool.used, n);
  pool.used += n;
}

}  // namespace caseledger::eventstore
