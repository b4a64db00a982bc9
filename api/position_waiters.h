// Reads that must first see a position (min_position) wait here for the views to publish
// it, instead of polling: the views' change notification (after every published batch)
// calls Notify with the position they reached, and every waiter at or below it is called.
//
// Thread safety: every method may be called from any thread concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>

namespace caseledger::api {

class PositionWaiters {
 public:
  using Id = uint64_t;
  // Calls `reached` once, on Notify's thread, when a position >= `position` is notified;
  // it must be quick (post to the request's thread). The caller checks the position itself
  // after adding, since a notification may have come just before.
  Id Add(uint64_t position, std::function<void()> reached);
  // Forgets a waiter that gave up (its deadline passed); nothing if it was already called.
  void Remove(Id id);
  void Notify(uint64_t position);
  size_t size() const;

 private:
  struct Waiter {
    Id id;
    std::function<void()> reached;
  };
  mutable std::mutex mu_;
  Id next_id_ = 1;
  std::multimap<uint64_t, Waiter> waiters_;  // by position
  std::map<Id, uint64_t> positions_;         // id -> position, for Remove
};

}  // namespace caseledger::api
