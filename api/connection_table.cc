#include "api/connection_table.h"

namespace caseledger::api {

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
    auto it = OldestIdle(client);
    if (it == entries_.end()) {
      d.verdict = Verdict::kClientFull;
      if (per_client_[client] == 0) per_client_.erase(client);
      return d;
    }
    d.evict.push_back(Evict(it));
  }
  if (counted_ >= limits_.max_connections) {
    auto it = OldestIdle("");
    if (it == entries_.end()) {
      d.verdict = Verdict::kServerFull;
      if (per_client_[client] == 0) per_client_.erase(client);
      return d;  // the client's own eviction above, if any, stands: that one was idle
    }
    d.evict.push_back(Evict(it));
  }
  d.id = next_id_++;
  entries_.emplace(d.id, Entry{client, std::move(cancel), false, false, {}});
  ++per_client_[client];
  ++counted_;
  return d;
}

bool ConnectionTable::SetIdle(uint64_t id, bool idle) {
  std::lock_guard l(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return false;
  if (idle && stopping_) return false;
  it->second.idle = idle;
  if (idle) it->second.idle_since = Clock::now();
  return true;
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
  auto it = OldestIdle("");
  return it == entries_.end() ? Cancel() : Evict(it);
}

std::vector<ConnectionTable::Cancel> ConnectionTable::Stop() {
  std::lock_guard l(mu_);
  stopping_ = true;
  std::vector<Cancel> out;
  for (auto& [id, e] : entries_) {
    if (e.idle) out.push_back(e.cancel);
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
  for (const auto& [id, e] : entries_) n += e.idle && !e.evicted;
  return n;
}

// A linear scan: it runs only when a cap is reached, and the caps are thousands at most.
std::map<uint64_t, ConnectionTable::Entry>::iterator ConnectionTable::OldestIdle(const std::string& client) {
  auto best = entries_.end();
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    const Entry& e = it->second;
    if (!e.idle || e.evicted || (!client.empty() && e.client != client)) continue;
    if (best == entries_.end() || e.idle_since < best->second.idle_since) best = it;
  }
  return best;
}

ConnectionTable::Cancel ConnectionTable::Evict(std::map<uint64_t, Entry>::iterator it) {
  Entry& e = it->second;
  e.evicted = true;
  e.idle = false;
  --counted_;
  if (--per_client_[e.client] == 0) per_client_.erase(e.client);
  return e.cancel;
}

}  // namespace caseledger::api
