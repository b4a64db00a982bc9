#include "api/thread_inbox.h"

#include "api/api_logger.h"

#include <boost/asio/post.hpp>

#include <exception>

namespace caseledger::api {

void ThreadInbox::Add(std::function<void()> work) {
  bool post = false;
  {
    std::lock_guard l(mu_);
    queued_.push_back(std::move(work));
    if (!drain_posted_) {
      drain_posted_ = post = true;
      ++drains_posted_;
    }
  }
  // Outside the lock: the post may wake the thread, which then takes the lock to drain.
  if (post) boost::asio::post(ioc_, [this] { Drain(); });
}

size_t ThreadInbox::drains_posted() const {
  std::lock_guard l(mu_);
  return drains_posted_;
}

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
