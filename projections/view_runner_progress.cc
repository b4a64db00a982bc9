// Where a catch-up stands (CatchUpProgress): computed from the runner's counters, reported
// to its listener every `progress_every`, and written as one line for the terminal and logs.
#include "projections/batch_pipeline.h"
#include "projections/projections_logger.h"
#include "projections/view_runner_impl.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

namespace caseledger::projections {

CatchUpProgress ViewRunner::Impl::Progress() const {
  CatchUpProgress p;
  // What is written, published or not (a catch-up publishes only at its end when nobody
  // reads the views meanwhile: CatchUpOverlapped).
  p.position = std::max(stored_position.load(std::memory_order_relaxed), position.load(std::memory_order_acquire));
  p.target = std::max(catch_up_target.load(std::memory_order_relaxed), p.position);
  const uint64_t from = std::min(catch_up_from.load(std::memory_order_relaxed), p.position);
  const int64_t started = catch_up_started_ns.load(std::memory_order_relaxed);
  const double seconds =
      started == 0 ? 0
                   : (std::chrono::steady_clock::now().time_since_epoch().count() - started) / 1e9;
  if (seconds > 0 && p.position > from) {
    p.events_per_second = (p.position - from) / seconds;
    p.eta_seconds = (p.target - p.position) / p.events_per_second;
  } else if (p.done()) {
    p.eta_seconds = 0;
  }
  return p;
}

void ViewRunner::Impl::ReportProgress(bool force) {
  if (!options.on_progress) return;
  const auto now = std::chrono::steady_clock::now();
  if (!force && now - last_report < options.progress_every) return;
  last_report = now;
  reported = !Progress().done();
  if (pipeline && ProjectionsLog()->should_log(spdlog::level::debug)) {
    ProjectionsLog()->debug(
        "catch-up's memory at {}: {} people cached of a limit of {} (~{:.0f} bytes each), tables {} MiB, spill "
        "index {} MiB, {} records read back, spill file {} MiB",
        position.load(std::memory_order_relaxed), pipeline->CachedPeople(), PersonCacheLimit(), record_bytes,
        TablesBytes() >> 20, pipeline->SpillIndexBytes() >> 20, pipeline->SpillReads(), pipeline->SpillFileBytes() >> 20);
  }
  try {
    options.on_progress(Progress());
  } catch (const std::exception& ex) {
    ProjectionsLog()->warn("a progress listener failed: {}", ex.what());
  }
}

std::string ProgressLine(const CatchUpProgress& p) {
  auto grouped = [](uint64_t n) {
    std::string digits = std::to_string(n), out;
    for (size_t i = 0; i < digits.size(); ++i) {
      if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
      out += digits[i];
    }
    return out;
  };
  char tail[96];
  const double percent = p.target == 0 ? 100.0 : 100.0 * static_cast<double>(p.position) / p.target;
  if (p.eta_seconds >= 0) {
    std::snprintf(tail, sizeof tail, " (%.1f %%), %.0f events/s, ETA %.0f s", percent, p.events_per_second,
                  p.eta_seconds);
  } else {
    std::snprintf(tail, sizeof tail, " (%.1f %%)", percent);
  }
  return "position " + grouped(p.position) + " / " + grouped(p.target) + tail;
}

}  // namespace caseledger::projections
