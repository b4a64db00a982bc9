// Private to projections/: a fixed set of threads that run the tasks of one step of the
// batch pipeline (batch_pipeline.h) and return when all are done. The calling thread
// takes tasks too, so a pool of N threads keeps N - 1 workers.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace caseledger::projections {

class TaskPool {
 public:
  // `threads` running tasks at once, the caller included (0 or 1: the caller alone). The
  // workers start at the first Run that has tasks for them, from the calling thread, whose
  // scheduling priority they inherit (a blue-green rebuild runs at a lower one).
  explicit TaskPool(size_t threads);
  ~TaskPool();
  TaskPool(const TaskPool&) = delete;
  TaskPool& operator=(const TaskPool&) = delete;

  // Runs task(0) .. task(n - 1), each once, in no particular order and possibly at the
  // same time, and returns when every one returned. `task` must not throw. One Run at a
  // time (the runner's thread): a Run begun while another is in progress aborts the process.
  void Run(size_t n, const std::function<void(size_t)>& task);
  size_t threads() const { return threads_; }

 private:
  void Work();
  // Takes tasks of the current round until none is left; returns how many it ran.
  size_t Drain();

  std::mutex mu_;
  std::condition_variable start_, done_;
  const std::function<void(size_t)>* task_ = nullptr;  // guarded by mu_
  size_t next_ = 0, count_ = 0, finished_ = 0;          // guarded by mu_
  uint64_t round_ = 0;                                  // guarded by mu_
  bool stop_ = false;                                   // guarded by mu_
  const size_t threads_;
  std::vector<std::thread> workers_;
};

}  // namespace caseledger::projections
