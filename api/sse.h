// Server-Sent Events fan-out: view changes are published to every subscriber's bounded
// queue; the server drains a subscriber onto its connection. A subscriber that falls too
// far behind is dropped (its client reconnects and re-reads), so a slow dashboard never
// holds memory or the runner.
#pragma once

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
  // Takes the queued frames; sets `closed` when the hub dropped this subscriber.
  std::vector<std::string> Drain(bool* closed);

 private:
  friend class SseHub;
  std::mutex mu_;
  std::deque<std::string> frames_;
  bool closed_ = false;
  std::function<bool(const std::string& view, const std::string& key)> filter_;
};

class SseHub {
 public:
  static constexpr size_t kMaxQueued = 4096;

  // `filter` decides which changes this subscriber may see (scope); null: all.
  std::shared_ptr<SseSubscriber> Subscribe(
      std::function<bool(const std::string& view, const std::string& key)> filter = {});
  // Queues "event: change\ndata: {view, key, position}\n\n" for every subscriber. Thread-safe.
  void Publish(const std::string& view, const std::string& key, uint64_t position);
  size_t subscribers() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::weak_ptr<SseSubscriber>> subscribers_;
};

}  // namespace caseledger::api
