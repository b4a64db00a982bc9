// The threads the commands that wait run on (RouteKind::kCommand: grants, rules, the
// results batch): such a command blocks in the store's group commit until its WAL sync, so
// many run at once and share one sync. Person and swab commands do not wait and run on the
// I/O threads (RouteKind::kDeferredCommand). A job goes straight to an idle thread,
// woken on a condition variable of its own (asio's thread_pool parks all its threads on
// one condition variable, and with 64 of them glibc's signal itself ended up waiting).
//
// Thread safety: Submit() may be called from any thread; Join() once, from one.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace caseledger::api {

class CommandPool {
 public:
  explicit CommandPool(int threads);
  // Joins (as Join()).
  ~CommandPool();

  // Runs `job` on one of the threads, at once when one is idle, else in submission order.
  void Submit(std::function<void()> job);
  // Runs what was submitted, then ends the threads. Submit() must not be called after.
  void Join();

 private:
  struct Worker {
    std::condition_variable wake;
    std::function<void()> job;  // handed over by Submit() while the worker is idle
  };
  void Work(Worker& self);

  std::mutex mu_;
  std::deque<std::function<void()>> queued_;  // when no thread was idle
  std::vector<Worker*> idle_;                 // most recently idle last (warm caches)
  bool stopping_ = false;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
};

}  // namespace caseledger::api
