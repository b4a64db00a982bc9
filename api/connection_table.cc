#include "api/connection_table.h"

namespace caseledger::api {
namespace {

int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(ConnectionTable::Clock::now().time_since_epoch())
      .count();
}

}  // namespace

ConnectionTable::Decision ConnectionTable::Open(const std::string& client, Cancel cancel) {
  Decision d;
  std::lock_guard l(mu_);
  if (stopping_) {
    d.verdict = Verdict::kStopping;
    return d;
  }
  // The client's own idle connections make room first, then anyone's: a client with many
  // keep-alive connections open never locks itself out, nor one flood everyone.
  if (per_client_[client] >= limits_.max_per_client) {
    Cancel evict = TakeOldestIdle(client);
    if (!evict) {
      d.verdict = Verdict::kClientFull;
      if (per_client_[client] == 0) per_client_.erase(client);
      return d;
    }
    d.evict.push_back(std::move(evict));
  }
  if (counted_ >= limits_.max_connections) {
    Cancel evict = TakeOldestIdle("");
    if (!evict) {
      d.verdict = Verdict::kServerFull;
      if (per_client_[client] == 0) per_client_.erase(client);
      return d;  // the client's own eviction above, if any, stands: that one was idle
    }
    d.evict.push_back(std::move(evict));
  }
  d.id = next_id_++;
  Entry& e = entries_[d.id];
  e.client = client;
  e.cancel = std::move(cancel);
  d.slot = &e.slot;
  ++per_client_[client];
  ++counted_;
  return d;
}

bool ConnectionTable::SetIdle(Slot* slot, bool idle, std::optional<Clock::time_point> at) {
  if (!idle) {
    slot->state.store(Slot::kBusy);
    return true;
  }
  const int64_t now =
      at ? std::chrono::duration_cast<std::chrono::nanoseconds>(at->time_since_epoch()).count() : NowNanos();
  slot->state.store(now);
  // After the store (both sequentially consistent): either Stop() sees this connection idle
  // and hands back its cancel, or this sees the table stopping, or both.
  if (stopping_.load()) {
    slot->state.store(Slot::kBusy);
    return false;
  }
  return true;
}

bool ConnectionTable::SetIdle(uint64_t id, bool idle) {
  Slot* slot = nullptr;
  {
    std::lock_guard l(mu_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return false;
    slot = &it->second.slot;
  }
  return SetIdle(slot, idle);
}

void ConnectionTable::Close(uint64_t id) {
  std::lock_guard l(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  if (!it->second.evicted) {
    --counted_;
    if (--per_client_[it->second.client] == 0) per_client_.erase(it->second.client);
  }
  entries_.erase(it);
}

ConnectionTable::Cancel ConnectionTable::EvictOldestIdle() {
  std::lock_guard l(mu_);
  return TakeOldestIdle("");
}

std::vector<ConnectionTable::Cancel> ConnectionTable::Stop() {
  std::lock_guard l(mu_);
  stopping_.store(true);
  std::vector<Cancel> out;
  for (auto& [id, e] : entries_) {
    if (e.slot.state.load() >= 0) out.push_back(e.cancel);
  }
  return out;
}

size_t ConnectionTable::size() const {
  std::lock_guard l(mu_);
  return entries_.size();
}

size_t ConnectionTable::idle() const {
  std::lock_guard l(mu_);
  size_t n = 0;
  for (const auto& [id, e] : entries_) n += e.slot.state.load(std::memory_order_relaxed) >= 0 && !e.evicted;
  return n;
}

// A linear scan: it runs only when a cap is reached, and the caps are thousands at most.
// The connection found is taken by a compare-and-swap from the idle time seen: if it became
// busy (or idle again) meanwhile, the scan runs again.
ConnectionTable::Cancel ConnectionTable::TakeOldestIdle(const std::string& client) {
  for (;;) {
    Entry* best = nullptr;
    int64_t best_since = 0;
    for (auto& [id, e] : entries_) {
      const int64_t since = e.slot.state.load();
      if (since < 0 || e.evicted || (!client.empty() && e.client != client)) continue;
      if (best == nullptr || since < best_since) {
        best = &e;
        best_since = since;
      }
    }
    if (best == nullptr) return Cancel();
    // Busy to the table from now on; its cancel runs on its own thread and leaves it alone
    // if it began a request meanwhile.
    if (!best->slot.state.compare_exchange_strong(best_since, Slot::kBusy)) continue;
    best->evicted = true;
    --counted_;
    if (--per_client_[best->client] == 0) per_client_.erase(best->client);
    return best->cancel;
  }
}

}  // namespace caseledger::api
