// Work handed to one I/O thread by other threads, run there in batches: one asio::post per
// batch, not one per item. The group commit's thread answers every command of a group
// through the inbox of each command's connection (~36 commands per group at full load, on
// two I/O threads): a post each cost it an operation allocated, the scheduler's lock and
// work count and a wake-up check per command, and the I/O thread a trip through the
// scheduler per command; through the inbox the first item of a batch posts its drain and
// the others join it while it is queued.
//
// Thread safety: Add from any thread; the drain runs on the io_context's thread. Work runs
// in the order it was added. Lifetimes: the inbox outlives every Add (the server owns one
// per io_context and destroys it after its I/O thread ended); work still queued when the
// inbox is destroyed is destroyed unrun, as asio destroys the handlers of a stopped context.
#pragma once

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <functional>
#include <mutex>
#include <vector>

namespace caseledger::api {

class ThreadInbox {
 public:
  explicit ThreadInbox(boost::asio::io_context& ioc) : ioc_(ioc) {}
  ThreadInbox(const ThreadInbox&) = delete;
  ThreadInbox& operator=(const ThreadInbox&) = delete;

  // Any thread: `work` runs on the io_context's thread, never inline here. An exception
  // it throws is logged and the batch goes on.
  void Add(std::function<void()> work);

  // Drains posted so far (tests: how many items shared one).
  size_t drains_posted() const;

  // Around the answers of one group commit, on the store's sync thread (its AnswerHooks):
  // between HoldWakes() and WakeHeld(), an Add made on the calling thread that would post a
  // drain leaves it for WakeHeld, which posts one for each inbox that got work meanwhile.
  // So an I/O thread is woken once per group, after all of the group's answers are queued.
  // Posting at the first answer woke the I/O thread at once, which on two cores preempted
  // the sync thread, drained that one answer and went back to wait, so that a later answer
  // of the same group posted and woke it again (5.5 preemptions of the sync thread per
  // group of 24). Items added meanwhile from other threads join the held drain.
  // REQUIRES: WakeHeld on the thread that called HoldWakes, before the inboxes it reached
  // can be destroyed.
  static void HoldWakes();
  static void WakeHeld();

 private:
  void Drain();
  void PostDrain();

  boost::asio::io_context& ioc_;
  mutable std::mutex mu_;
  std::vector<std::function<void()>> queued_;  // guarded by mu_
  bool drain_posted_ = false;                  // a Drain is queued and has not taken queued_ yet
  std::atomic<size_t> drains_posted_{0};
  std::vector<std::function<void()>> running_;  // the drain's batch: the io_context's thread only
};

}  // namespace caseledger::api
