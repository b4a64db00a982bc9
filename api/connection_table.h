// The server's open connections, for the limits that keep one client (or a flood) from
// taking them all: a cap on connections and a cap per client address. When a cap is
// reached, a connection that is idle (between requests, waiting for the next one to
// begin) makes room, the longest idle first, as nginx reuses idle keep-alive connections;
// only when none is idle is the newcomer refused. A connection in the middle of a request
// is never taken away.
//
// Pure bookkeeping, no sockets: a connection is registered with a `cancel` that the table
// hands back (never runs) when it must go; the caller runs it outside the table's lock.
// Thread-safe. A connection marks itself idle or busy (twice per request) on its Slot with
// one atomic store, without the table's lock; the table takes an idle connection away only
// by a compare-and-swap from the idle time it saw, so one that became busy meanwhile is
// never taken.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace caseledger::api {

struct ConnectionLimits {
  size_t max_connections = 1024;
  size_t max_per_client = 256;
};

class ConnectionTable {
 public:
  using Clock = std::chrono::steady_clock;
  using Cancel = std::function<void()>;

  explicit ConnectionTable(ConnectionLimits limits) : limits_(limits) {}

  // A connection's idle state: since when it is idle (steady clock, ns), or busy (-1).
  class Slot {
   private:
    friend class ConnectionTable;
    static constexpr int64_t kBusy = -1;
    std::atomic<int64_t> state{kBusy};
  };

  enum class Verdict { kAdmitted, kServerFull, kClientFull, kStopping };
  struct Decision {
    Verdict verdict = Verdict::kAdmitted;
    uint64_t id = 0;            // when admitted: the connection's id for the calls below
    Slot* slot = nullptr;       // when admitted: its slot, good until Close(id)
    std::vector<Cancel> evict;  // idle connections to cancel to make room (caller runs them)
  };
  // A new connection from `client` (its address). Admitted connections start busy.
  Decision Open(const std::string& client, Cancel cancel);
  // The connection waits for its next request (true) or is reading/answering one (false).
  // False when the table is stopping and the connection should close instead of waiting.
  // `now`, when given, is the caller's reading of Clock a moment ago (one clock read less).
  bool SetIdle(Slot* slot, bool idle, std::optional<Clock::time_point> now = std::nullopt);
  // The same by id (a look-up under the lock; for tests and tools).
  bool SetIdle(uint64_t id, bool idle);
  void Close(uint64_t id);

  // Descriptors ran out: the longest idle connection's cancel (null when none is idle).
  Cancel EvictOldestIdle();
  // Shutdown: no more admissions; the cancels of every idle connection (the busy ones
  // finish their request, and SetIdle(true) tells them to close).
  std::vector<Cancel> Stop();

  size_t size() const;
  size_t idle() const;
  const ConnectionLimits& limits() const { return limits_; }

 private:
  struct Entry {
    std::string client;
    Cancel cancel;
    bool evicted = false;  // handed back for cancelling: no longer counted (under mu_)
    Slot slot;
  };
  // REQUIRES: mu_ held. Takes the longest idle connection (of `client` when not empty)
  // away: its cancel, null when none is idle.
  Cancel TakeOldestIdle(const std::string& client);

  const ConnectionLimits limits_;
  mutable std::mutex mu_;
  std::map<uint64_t, Entry> entries_;
  std::unordered_map<std::string, size_t> per_client_;  // counted (not evicted) connections
  size_t counted_ = 0;
  uint64_t next_id_ = 1;
  std::atomic<bool> stopping_{false};  // written under mu_, read by SetIdle without it
};

}  // namespace caseledger::api
