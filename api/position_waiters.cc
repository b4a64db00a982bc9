#include "api/position_waiters.h"

#include <vector>

namespace caseledger::api {

PositionWaiters::Id PositionWaiters::Add(uint64_t position, std::function<void()> reached) {
  std::lock_guard l(mu_);
  const Id id = next_id_++;
  waiters_.emplace(position, Waiter{id, std::move(reached)});
  positions_.emplace(id, position);
  return id;
}

void PositionWaiters::Remove(Id id) {
  std::lock_guard l(mu_);
  auto p = positions_.find(id);
  if (p == positions_.end()) return;
  auto [first, last] = waiters_.equal_range(p->second);
  for (auto it = first; it != last; ++it) {
    if (it->second.id == id) {
      waiters_.erase(it);
      break;
    }
  }
  positions_.erase(p);
}

void PositionWaiters::Notify(uint64_t position) {
  std::vector<std::function<void()>> due;
  {
    std::lock_guard l(mu_);
    auto end = waiters_.upper_bound(position);
    for (auto it = waiters_.begin(); it != end; ++it) {
      positions_.erase(it->second.id);
      due.push_back(std::move(it->second.reached));
    }
    waiters_.erase(waiters_.begin(), end);
  }
  for (auto& f : due) f();
}

size_t PositionWaiters::size() const {
  std::lock_guard l(mu_);
  return waiters_.size();
}

}  // namespace caseledger::api
