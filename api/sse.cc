#include "api/sse.h"

#include <boost/json.hpp>

namespace caseledger::api {
namespace {

std::string Frame(const std::string& view, const std::string& key, uint64_t position) {
  boost::json::object data{{"view", view}, {"key", key}, {"position", position}};
  return "id: " + std::to_string(position) + "\nevent: change\ndata: " + boost::json::serialize(data) + "\n\n";
}

}  // namespace

std::vector<std::string> SseSubscriber::Drain(bool* closed) {
  std::vector<std::string> out;
  {
    std::lock_guard l(mu_);
    out.assign(std::make_move_iterator(frames_.begin()), std::make_move_iterator(frames_.end()));
    frames_.clear();
    *closed = closed_;
  }
  if (*closed || !still_allowed_) return out;
  // The check runs without the lock (it may read the store) and after the frames were
  // taken: each of them was published before it.
  const auto now = std::chrono::steady_clock::now();
  if (out.empty() && now - checked_at_ < kIdleRecheck) return out;
  checked_at_ = now;
  if (still_allowed_()) return out;
  std::lock_guard l(mu_);
  closed_ = true;
  frames_.clear();
  *closed = true;
  return {};
}

void SseSubscriber::SetWake(std::function<void()> wake) {
  std::lock_guard l(mu_);
  wake_ = std::move(wake);
}

bool SseSubscriber::Ready() {
  std::lock_guard l(mu_);
  return closed_ || !frames_.empty();
}

std::shared_ptr<SseSubscriber> SseHub::Subscribe(
    std::function<bool(const std::string&, const std::string&)> filter, std::function<bool()> still_allowed) {
  auto s = std::make_shared<SseSubscriber>();
  s->filter_ = std::move(filter);
  s->still_allowed_ = std::move(still_allowed);
  s->checked_at_ = std::chrono::steady_clock::now();
  std::lock_guard l(mu_);
  subscribers_.push_back(s);
  return s;
}

void SseHub::Publish(const std::string& view, const std::string& key, uint64_t position) {
  // The frame is made for the first subscriber that takes it: the views' thread publishes
  // every changed key of every batch, and with nobody listening (the usual case) making
  // each one's JSON was ~3.5 % of that thread under the commands' load (perf).
  std::string frame;
  std::vector<std::function<void()>> wakes;
  {
    std::lock_guard l(mu_);
    if (subscribers_.empty()) return;
    std::erase_if(subscribers_, [](const std::weak_ptr<SseSubscriber>& w) { return w.expired(); });
    for (auto& w : subscribers_) {
      auto s = w.lock();
      if (!s) continue;
      if (s->filter_ && !s->filter_(view, key)) continue;
      std::lock_guard sl(s->mu_);
      if (s->closed_) continue;
      if (s->frames_.size() >= kMaxQueued) {
        s->closed_ = true;  // too slow: drop it rather than grow without bound
        s->frames_.clear();
      } else {
        if (frame.empty()) frame = Frame(view, key, position);
        s->frames_.push_back(frame);
      }
      if (s->wake_) wakes.push_back(s->wake_);
    }
  }
  for (auto& wake : wakes) wake();
}

size_t SseHub::subscribers() const {
  std::lock_guard l(mu_);
  size_t n = 0;
  for (const auto& w : subscribers_) n += !w.expired();
  return n;
}

}  // namespace caseledger::api
