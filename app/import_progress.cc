#include "app/import_progress.h"

#include <unistd.h>

#include <cstdio>

namespace caseledger::app {

TerminalProgress::TerminalProgress(std::string what, uint64_t total)
    : what_(std::move(what)), total_(total), tty_(isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()), last_(start_) {}

double TerminalProgress::seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void TerminalProgress::Update(uint64_t done, uint64_t position, uint64_t events) {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ < (tty_ ? std::chrono::seconds(1) : std::chrono::seconds(10))) return;
  last_ = now;
  const double took = seconds();
  const double rate = took > 0 ? static_cast<double>(events) / took : 0;
  char eta[32] = "?";
  if (total_ > 0 && done > 0 && done <= total_) {
    const double left = took * static_cast<double>(total_ - done) / static_cast<double>(done);
    std::snprintf(eta, sizeof eta, "%d:%02d", static_cast<int>(left) / 60, static_cast<int>(left) % 60);
  }
  const double share = total_ > 0 ? 100.0 * static_cast<double>(done) / static_cast<double>(total_) : 0;
  std::fprintf(stderr, "%s%s: line %llu (%.1f %%), %llu events, %.0f events/s, ETA %s%s", tty_ ? "\r" : "",
               what_.c_str(), static_cast<unsigned long long>(position), share,
               static_cast<unsigned long long>(events), rate, eta, tty_ ? "   " : "\n");
  std::fflush(stderr);
  shown_ = true;
}

void TerminalProgress::Finish() {
  if (shown_ && tty_) std::fputc('\n', stderr);
  shown_ = false;
}

}  // namespace caseledger::app
