#include "eventstore/recent_log.h"

#include <algorithm>
#include <atomic>

namespace caseledger::eventstore {

void RecentLog::Add(std::shared_ptr<RecordRun>& run) {
  std::shared_ptr<const RecordRun> added(std::move(run));
  {
    std::lock_guard l(mu_);
    if (added->bytes() > max_bytes_ || (!runs_.empty() && runs_.back()->end() != added->first())) {
      runs_.clear();
      bytes_ = 0;
    }
    if (added->bytes() > max_bytes_) {
      run = std::make_shared<RecordRun>();
      return;
    }
    bytes_ += added->bytes();
    runs_.push_back(std::move(added));
    while (runs_.size() > 1 && bytes_ > max_bytes_) {
      bytes_ -= runs_.front()->bytes();
      // An evicted run that no reader holds keeps its buffers for the writer's next group:
      // its count read 1 here, after every reader's release of it (the acquire fence
      // orders their last reads of it before our writes to it).
      if (runs_.front().use_count() == 1) {
        std::atomic_thread_fence(std::memory_order_acquire);
        spare_ = std::const_pointer_cast<RecordRun>(std::move(runs_.front()));
      }
      runs_.pop_front();
    }
    run = std::move(spare_);
  }
  if (run) {
    run->Clear();
  } else {
    run = std::make_shared<RecordRun>();
  }
}

std::vector<std::shared_ptr<const RecordRun>> RecentLog::Find(uint64_t from, uint64_t count) const {
  std::vector<std::shared_ptr<const RecordRun>> found;
  if (count == 0) return found;
  const uint64_t end = from + count;
  std::lock_guard l(mu_);
  if (runs_.empty() || from < runs_.front()->first() || end > runs_.back()->end()) return found;
  // The first run that ends after `from` (runs are contiguous: their ends ascend).
  auto it = std::upper_bound(runs_.begin(), runs_.end(), from,
                             [](uint64_t p, const std::shared_ptr<const RecordRun>& r) { return p < r->end(); });
  for (; it != runs_.end() && (*it)->first() < end; ++it) found.push_back(*it);
  return found;
}

void RecentLog::Clear() {
  std::lock_guard l(mu_);
  runs_.clear();
  bytes_ = 0;
}

size_t RecentLog::Bytes() const {
  std::lock_guard l(mu_);
  return bytes_;
}

}  // namespace caseledger::eventstore
