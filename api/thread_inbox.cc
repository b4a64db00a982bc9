#include "api/thread_inbox.h"

#include "api/api_logger.h"

#include <boost/asio/post.hpp>

#include <exception>
#include <vector>

namespace caseledger::api {
namespace {

// The calling thread's held wakes (HoldWakes .. WakeHeld): the inboxes whose drain is due.
struct HeldWakes {
  bool holding = false;
  std::vector<ThreadInbox*> inboxes;
};
thread_local HeldWakes held_wakes;

}  // namespace

void ThreadInbox::Add(std::function<void()> work) {
  bool post = false;
  {
    std::lock_guard l(mu_);
    queued_.push_back(std::move(work));
    if (!drain_posted_) drain_posted_ = post = true;
  }
  if (!post) return;
  if (held_wakes.holding) {
    held_wakes.inboxes.push_back(this);  // once: drain_posted_ stays set until the drain runs
    return;
  }
  PostDrain();
}

void ThreadInbox::PostDrain() {
  drains_posted_.fetch_add(1, std::memory_order_relaxed);
  // Outside the lock: the post may wake the thread, which then takes the lock to drain.
  boost::asio::post(ioc_, [this] { Drain(); });
}

void ThreadInbox::HoldWakes() { held_wakes.holding = true; }

void ThreadInbox::WakeHeld() {
  held_wakes.holding = false;
  for (ThreadInbox* inbox : held_wakes.inboxes) inbox->PostDrain();
  held_wakes.inboxes.clear();
}

size_t ThreadInbox::drains_posted() const { return drains_posted_.load(std::memory_order_relaxed); }

void ThreadInbox::Drain() {
  {
    std::lock_guard l(mu_);
    running_.swap(queued_);  // both keep their capacity: no allocation per batch
    drain_posted_ = false;   // from here on, an Add posts the next drain
  }
  for (auto& work : running_) {
    try {
      work();
    } catch (const std::exception& e) {
      ApiLog()->critical("work handed to an I/O thread threw: {}", e.what());
    }
  }
  running_.clear();
}

}  // namespace caseledger::api
