#include "api/deadline_sweeper.h"

#include <algorithm>

namespace caseledger::api {

using Clock = Deadline::Clock;

namespace detail {

void DeadlineList::Add(Deadline* d) {
  d->next_ = head;
  if (head) head->prev_ = d;
  head = d;
  ++size;
}

void DeadlineList::Remove(Deadline* d) {
  if (d->prev_) {
    d->prev_->next_ = d->next_;
  } else {
    head = d->next_;
  }
  if (d->next_) d->next_->prev_ = d->prev_;
  d->prev_ = d->next_ = nullptr;
  --size;
  if (size == 0 && sweeper) sweeper->Disarm();
}

}  // namespace detail

Deadline::Deadline(DeadlineSweeper& sweeper, std::function<void()> expire)
    : list_(sweeper.list_), expire_(std::move(expire)) {
  list_->Add(this);
  sweeper.Arm();
}

Deadline::~Deadline() { list_->Remove(this); }

DeadlineSweeper::DeadlineSweeper(boost::asio::io_context& ioc, Clock::duration shortest)
    : timer_(ioc),
      tick_(std::clamp<Clock::duration>(shortest / 10, std::chrono::milliseconds(10), std::chrono::seconds(1))),
      list_(std::make_shared<detail::DeadlineList>()) {
  list_->sweeper = this;
}

DeadlineSweeper::~DeadlineSweeper() { list_->sweeper = nullptr; }

void DeadlineSweeper::Arm() {
  if (armed_) return;
  armed_ = true;
  timer_.expires_after(tick_);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;  // cancelled: Disarm() said so, or the sweeper is gone with the timer
    armed_ = false;
    Sweep();
  });
}

void DeadlineSweeper::Disarm() {
  if (!armed_) return;
  armed_ = false;
  timer_.cancel();
}

// An expired connection's operation completes later, through the scheduler (closing a
// socket only queues its handlers), so the list does not change under this walk.
void DeadlineSweeper::Sweep() {
  const Clock::time_point now = Clock::now();
  for (Deadline* d = list_->head; d != nullptr; d = d->next_) {
    if (d->pending_ && !d->expired_ && d->at_ <= now) {
      d->expired_ = true;
      d->expire_();
    }
  }
  if (list_->head) Arm();
}

}  // namespace caseledger::api
