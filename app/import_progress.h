// Progress of long work on the terminal (import): position, rate and ETA on stderr, at most
// once a second; rewritten in place on a terminal, one line every ten seconds otherwise.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace caseledger::app {

class TerminalProgress {
 public:
  // `what` names the work ("import"); `total` is the work's size in the unit of Update's
  // `done` (bytes of the input, for an ETA), 0 when unknown.
  TerminalProgress(std::string what, uint64_t total);
  // `done` of total so far; `position` and `events` are shown as they are.
  void Update(uint64_t done, uint64_t position, uint64_t events);
  // Ends the progress line (a newline on a terminal).
  void Finish();
  double seconds() const;

 private:
  std::string what_;
  uint64_t total_;
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_;
  bool shown_ = false;
};

}  // namespace caseledger::app
