// Private to projections/ and the serving side: the two pieces every view's snapshots are
// made of.
//
// - Own: copy on write. A node shared with a published snapshot (use_count > 1) is copied
//   before it changes; one that only the writer's working state holds changes in place. A
//   count of 1 cannot grow behind the writer's back (readers reach nodes only through
//   published snapshots); the fence pairs with the release of a reader that dropped the
//   count to 1.
// - Published<T>: the immutable value readers take and the writer replaces, by atomic
//   pointer swap (RCU-style): a read is one atomic load of a shared_ptr, no mutex, and
//   never waits for a batch; the writer never waits for a reader. The value a reader holds
//   lives until its last reader drops it. (libstdc++ implements the atomic shared_ptr with
//   a spin bit in the pointer word, held for the count's increment: no system call, no
//   sleeping.)
#pragma once

#include <atomic>
#include <memory>

namespace caseledger::projections::cow {

template <class T>
T& Own(std::shared_ptr<T>& p) {
  if (!p) {
    p = std::make_shared<T>();
  } else if (p.use_count() > 1) {
    p = std::make_shared<T>(*p);
  } else {
    std::atomic_thread_fence(std::memory_order_acquire);
  }
  return *p;
}

template <class T>
class Published {
 public:
  std::shared_ptr<const T> Get() const { return value_.load(std::memory_order_acquire); }
  // The previous value is released here, on the writer's thread, unless a reader still
  // holds it.
  void Set(std::shared_ptr<const T> value) { value_.store(std::move(value), std::memory_order_release); }

 private:
  std::atomic<std::shared_ptr<const T>> value_;
};

}  // namespace caseledger::projections::cow
