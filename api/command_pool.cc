#include "api/command_pool.h"

#include <algorithm>

namespace caseledger::api {

CommandPool::CommandPool(int threads) {
  for (int i = 0; i < std::max(1, threads); ++i) workers_.push_back(std::make_unique<Worker>());
  for (auto& w : workers_) threads_.emplace_back([this, w = w.get()] { Work(*w); });
}

CommandPool::~CommandPool() { Join(); }

void CommandPool::Submit(std::function<void()> job) {
  std::unique_lock lock(mu_);
  if (idle_.empty()) {
    queued_.push_back(std::move(job));
    return;
  }
  Worker* w = idle_.back();
  idle_.pop_back();
  w->job = std::move(job);
  lock.unlock();
  w->wake.notify_one();  // workers live until Join(), so this is safe after the unlock
}

void CommandPool::Join() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  for (auto& w : workers_) w->wake.notify_one();
  for (auto& t : threads_) t.join();
}

void CommandPool::Work(Worker& self) {
  std::unique_lock lock(mu_);
  for (;;) {
    std::function<void()> job;
    if (self.job) {
      job = std::move(self.job);
      self.job = nullptr;
    } else if (!queued_.empty()) {
      job = std::move(queued_.front());
      queued_.pop_front();
    } else if (stopping_) {
      return;
    } else {
      idle_.push_back(&self);
      self.wake.wait(lock, [&] { return self.job != nullptr || stopping_; });
      if (!self.job) {
        // Stopping while idle: leave the idle list, then finish what is queued.
        std::erase(idle_, &self);
      }
      continue;
    }
    lock.unlock();
    job();
    job = nullptr;  // what it captured goes before the lock is taken again
    lock.lock();
  }
}

}  // namespace caseledger::api
