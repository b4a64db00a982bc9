// The read and write deadlines of the plain-HTTP connections of one I/O thread, enforced
// by one timer that sweeps them all, instead of a timer armed and cancelled around every
// read and write (Beast's tcp_stream: two timer resets, a timer queue insert and removal
// and a cancelled wait's completion through the scheduler per request).
//
// A connection's Deadline holds a point in time and whether an operation is pending; a
// sweep expires (closes the socket of) every connection whose operation is pending past
// its point, as Beast's stream does on a timeout. An operation started after its point is
// expired by the next sweep. Deadlines are therefore kept to within one tick; the tick
// is a tenth of the shortest timeout served (at least 10 ms, at most 1 s).
//
// Thread safety: none; a sweeper and its deadlines are used on their io_context's thread
// only. The timer runs only while some deadline is registered (the last one to go cancels
// it), so that the io_context ends when its last connection has. Lifetimes: the sweeper must be destroyed before its
// io_context (it owns a timer on it); a deadline may outlive the sweeper (a session
// destroyed with its io_context), and then only leaves the list they share.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>

namespace caseledger::api {

class DeadlineSweeper;
class Deadline;

namespace detail {
// The deadlines of one thread, shared by the sweeper and its deadlines.
struct DeadlineList {
  Deadline* head = nullptr;
  size_t size = 0;
  DeadlineSweeper* sweeper = nullptr;  // null once the sweeper is gone
  void Add(Deadline* d);
  void Remove(Deadline* d);
};
}  // namespace detail

class Deadline {
 public:
  using Clock = std::chrono::steady_clock;

  // `expire` closes the connection's socket (pending operations complete with an error).
  Deadline(DeadlineSweeper& sweeper, std::function<void()> expire);
  ~Deadline();
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  // The point the operations from now on must end by (Beast's expires_after).
  void ExpiresAfter(Clock::duration d) { at_ = Clock::now() + d; }
  void ExpiresAt(Clock::time_point t) { at_ = t; }
  // Around an operation on the socket: only a pending one is expired.
  void Begin() { pending_ = true; }
  void End() { pending_ = false; }

  bool expired() const { return expired_; }

 private:
  friend class DeadlineSweeper;
  friend struct detail::DeadlineList;
  std::shared_ptr<detail::DeadlineList> list_;
  std::function<void()> expire_;
  Clock::time_point at_ = Clock::time_point::max();
  bool pending_ = false;
  bool expired_ = false;
  Deadline* prev_ = nullptr;  // the sweeper's list
  Deadline* next_ = nullptr;
};

// An operation pending on the socket for the scope's lifetime.
class PendingOperation {
 public:
  explicit PendingOperation(Deadline* d) : d_(d) {
    if (d_) d_->Begin();
  }
  ~PendingOperation() {
    if (d_) d_->End();
  }
  PendingOperation(const PendingOperation&) = delete;
  PendingOperation& operator=(const PendingOperation&) = delete;

 private:
  Deadline* d_;
};

class DeadlineSweeper {
 public:
  // `shortest`: the shortest timeout the connections use (sets the tick).
  DeadlineSweeper(boost::asio::io_context& ioc, Deadline::Clock::duration shortest);
  ~DeadlineSweeper();
  DeadlineSweeper(const DeadlineSweeper&) = delete;
  DeadlineSweeper& operator=(const DeadlineSweeper&) = delete;

  Deadline::Clock::duration tick() const { return tick_; }
  size_t size() const { return list_->size; }

 private:
  friend class Deadline;
  friend struct detail::DeadlineList;
  void Arm();
  void Disarm();  // nobody left: the io_context may end
  void Sweep();

  boost::asio::steady_timer timer_;
  Deadline::Clock::duration tick_;
  std::shared_ptr<detail::DeadlineList> list_;
  bool armed_ = false;
};

}  // namespace caseledger::api
