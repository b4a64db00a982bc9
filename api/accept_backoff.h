// Pacing for an accept loop that fails: when descriptors run out (EMFILE, ENFILE) accept
// fails at once, every time, so retrying at once spins a core and writes a log line per
// try. Instead the loop waits a delay that doubles from `first` up to `max` while failures
// continue (and resets on success), and logs at most one line per `log_every`, counting
// the failures it did not log. Not thread-safe: one accept loop owns one.
#pragma once

#include <chrono>
#include <cstdint>

namespace caseledger::api {

class AcceptBackoff {
 public:
  using Clock = std::chrono::steady_clock;

  struct Options {
    std::chrono::milliseconds first{5};
    std::chrono::milliseconds max{1'000};
    std::chrono::milliseconds log_every{5'000};
  };
  AcceptBackoff() : AcceptBackoff(Options{}) {}
  explicit AcceptBackoff(Options options) : options_(options), delay_(options.first) {}

  struct Step {
    std::chrono::milliseconds wait;  // before the next accept
    bool log = false;                // write one line now ...
    uint64_t failures = 0;           // ... naming this many failures since the last line
  };
  Step Failed(Clock::time_point now);
  void Succeeded() { delay_ = options_.first; }

 private:
  Options options_;
  std::chrono::milliseconds delay_;
  uint64_t unlogged_ = 0;
  bool logged_ = false;
  Clock::time_point last_log_;
};

}  // namespace caseledger::api
