// Server-Sent Events fan-out: view changes are published to every subscriber's bounded
// queue and wake its connection, which drains it onto the socket. A subscriber that falls too
// far behind is dropped (its client reconnects and re-reads), so a slow dashboard never
// holds memory or the runner. A subscriber whose caller may no longer listen (its grants
// changed: a revocation) is closed the next time it is drained, its queued frames dropped.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace caseledger::api {

class SseSubscriber {
 public:
  // How often a subscriber with nothing queued checks that it may still listen.
  static constexpr std::chrono::milliseconds kIdleRecheck{1'000};

  // Takes the queued frames; sets `closed` when the hub dropped this subscriber or it may
  // no longer listen. Frames are handed out only after a check made once they were all
  // queued, so none published after a revocation reaches the caller.
  std::vector<std::string> Drain(bool* closed);
  // `wake` is called (on the publishing thread; it must be quick) whenever a frame is
  // queued or the hub drops this subscriber, so that the connection drains it at once
  // instead of polling. Whether frames are queued or it was closed, for a drainer deciding
  // whether to sleep (a wake after this check is not lost as long as the drainer's sleep
  // begins on the thread `wake` posts to, before that thread runs anything else).
  void SetWake(std::function<void()> wake);
  bool Ready();

 private:
  friend class SseHub;
  std::mutex mu_;
  std::deque<std::string> frames_;
  bool closed_ = false;
  std::function<bool(const std::string& view, const std::string& key)> filter_;
  std::function<bool()> still_allowed_;
  std::function<void()> wake_;  // guarded by mu_
  std::chrono::steady_clock::time_point checked_at_;  // only touched by Drain()
};

class SseHub {
 public:
  static constexpr size_t kMaxQueued = 4096;

  // `filter` decides which changes this subscriber may see (scope); null: all.
  // `still_allowed` (null: always) says whether the caller may still listen; it is asked
  // when frames are drained and at least every kIdleRecheck, never by Publish().
  std::shared_ptr<SseSubscriber> Subscribe(
      std::function<bool(const std::string& view, const std::string& key)> filter = {},
      std::function<bool()> still_allowed = {});
  // Queues "event: change\ndata: {view, key, position}\n\n" for every subscriber. Thread-safe.
  void Publish(const std::string& view, const std::string& key, uint64_t position);
  size_t subscribers() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::weak_ptr<SseSubscriber>> subscribers_;
};

}  // namespace caseledger::api
