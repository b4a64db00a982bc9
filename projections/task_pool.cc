#include "projections/task_pool.h"

#include <cstdio>
#include <cstdlib>

namespace caseledger::projections {

TaskPool::TaskPool(size_t threads) : threads_(threads == 0 ? 1 : threads) {}

TaskPool::~TaskPool() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  start_.notify_all();
  for (auto& w : workers_) w.join();
}

size_t TaskPool::Drain() {
  size_t ran = 0;
  std::unique_lock lock(mu_);
  while (task_ != nullptr && next_ < count_) {
    const size_t i = next_++;
    const auto* task = task_;
    lock.unlock();
    (*task)(i);
    ++ran;
    lock.lock();
    if (++finished_ == count_) done_.notify_all();
  }
  return ran;
}

void TaskPool::Work() {
  uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      start_.wait(lock, [&] { return stop_ || round_ != seen; });
      if (stop_) return;
      seen = round_;
    }
    Drain();
  }
}

void TaskPool::Run(size_t n, const std::function<void(size_t)>& task) {
  if (n == 0) return;
  if (threads_ == 1 || n == 1) {
    for (size_t i = 0; i < n; ++i) task(i);
    return;
  }
  while (workers_.size() + 1 < threads_) workers_.emplace_back([this] { Work(); });
  {
    std::lock_guard lock(mu_);
    // Two Runs at once would share the round's counters and one of them wait for ever (a
    // merge of session 31 did that: the unspill's sort on the pool beside the views' Flush).
    // A programming error: stop loudly rather than hang.
    if (task_ != nullptr) {
      std::fputs("caseledger: TaskPool::Run called while another Run is in progress\n", stderr);
      std::abort();
    }
    task_ = &task;
    next_ = 0;
    count_ = n;
    finished_ = 0;
    ++round_;
  }
  start_.notify_all();
  Drain();
  std::unique_lock lock(mu_);
  done_.wait(lock, [&] { return finished_ == count_; });
  task_ = nullptr;
}

}  // namespace caseledger::projections
