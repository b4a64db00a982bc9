// caseledger-bench lag: projection lag while commands flow at a constant rate (docs/benchmarks.md:
// p99 <= 50 ms at 20k events/s). Appenders write single-event requests (valid person
// histories, bench_workload.h) into a fresh store on an open-loop schedule, each append at
// its intended time whatever the previous one took; the view runner of `serve` (all views,
// same options) follows the log on its thread. The lag of an event is the time from the
// group commit that made it durable (the store's commit listener) to the publication of
// the views batch that applied it (the runner's change listener), i.e. what a reader
// waiting with min_position sees.
//
// With --format tsv prints one line for ops/bench:
//   lag <offered events/s> <achieved events/s> <p50_ms> <p99_ms> <max_ms> <events> <batches>
//       <peak rss bytes>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <latch>
#include <mutex>
#include <thread>
#include <vector>

#include "workload/bench_stats.h"
#include "workload/bench_views.h"
#include "workload/bench_workload.h"
#include "tools/bench_scratch.h"
#include "tools/tools.h"
#include "app/flags.h"
#include "app/reference_files.h"
#include "eventstore/event_store.h"
#include "projections/view_runner.h"

namespace caseledger::tools {

using namespace workload;  // the library these tools are the front of
namespace {

using Clock = std::chrono::steady_clock;

// (position, time) marks in position order: group commits, or published views batches.
class Marks {
 public:
  void Add(uint64_t position, Clock::time_point at) {
    std::lock_guard lock(mu_);
    marks_.emplace_back(position, at);
  }
  // Time of the first mark at or past `position`; nullopt when none.
  std::optional<Clock::time_point> Reached(uint64_t position) const {
    auto it = std::lower_bound(marks_.begin(), marks_.end(), position,
                               [](const auto& m, uint64_t p) { return m.first < p; });
    if (it == marks_.end()) return std::nullopt;
    return it->second;
  }
  size_t size() const { return marks_.size(); }

 private:
  std::mutex mu_;
  std::vector<std::pair<uint64_t, Clock::time_point>> marks_;
};

}  // namespace

int RunBenchLag(const Args& args) {
  Flags flags(args, {"data", "rate", "seconds", "warmup", "appenders", "format"});
  if (!flags.ok()) return UsageError(flags.error());
  const double rate = std::atof(flags.GetOr("rate", "20000").c_str());
  const double seconds = std::atof(flags.GetOr("seconds", "10").c_str());
  const double warmup = std::atof(flags.GetOr("warmup", "1").c_str());
  const int appenders = std::atoi(flags.GetOr("appenders", "64").c_str());
  const bool tsv = flags.GetOr("format", "table") == "tsv";
  if (rate < 1 || seconds <= 0 || warmup < 0 || appenders < 1 || appenders > 1024) {
    return UsageError(
        "bench lag [--rate 20000] [--seconds 10] [--warmup 1] [--appenders 64] [--format "
        "table|tsv]");
  }
  auto reference = app::LoadReferenceData(app::DefaultReferenceDir());
  auto rules = app::LoadRuleBook(app::DefaultRulesDir());
  if (!reference || !rules) return Failure("cannot load reference data or rules");
  auto book = std::make_shared<const domain::RuleBook>(std::move(*rules));

  const BenchScratch scratch(flags, "lag");
  const std::string& base = scratch.path();
  eventstore::StoreOptions so;
  so.path = base + "/store";
  so.master_key_path = base + "/master.key";  // personal parts are sealed, as in serve
  auto store = eventstore::EventStore::Open(so);
  if (!store) return Failure(store.error().message);

  Marks commits, published;
  (*store)->AddCommitListener([&](uint64_t position) { commits.Add(position, Clock::now()); });
  projections::RunnerOptions ro;
  ro.path = base + "/views";
  ro.rules = book;
  ro.poll = std::chrono::milliseconds(20);  // as serve
  auto runner = projections::ViewRunner::Open(**store, MakeAllViews(*reference, book), ro);
  if (!runner) return Failure("views: " + runner.error().message);
  (*runner)->OnChanges([&](const std::vector<projections::ViewChange>& changes) {
    if (!changes.empty()) published.Add(changes.front().position, Clock::now());
  });
  (*runner)->Start();

  // Appender t sends at start + (t + k * appenders) / rate for k = 0, 1, ...
  const auto period = std::chrono::duration<double>(appenders / rate);
  const auto total = std::chrono::duration<double>(warmup + seconds);
  std::vector<std::vector<uint64_t>> measured(appenders);  // positions appended in the window
  std::atomic<bool> failed{false};
  std::string error;
  std::mutex error_mu;
  std::latch ready(appenders + 1);
  Clock::time_point start;
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < appenders; ++t) {
      threads.emplace_back([&, t] {
        PersonHistoryWriter writer(0x1a9u << 20 | static_cast<uint64_t>(t));
        ready.arrive_and_wait();
        const auto offset = std::chrono::duration<double>(t / rate);
        for (uint64_t k = 0; !failed.load(std::memory_order_relaxed); ++k) {
          auto due = offset + k * period;
          if (due >= total) return;
          std::this_thread::sleep_until(start + std::chrono::duration_cast<Clock::duration>(due));
          auto r = (*store)->Append(writer.Next());
          if (!r) {
            std::lock_guard lock(error_mu);
            error = r.error().message;
            failed = true;
            return;
          }
          writer.Appended();
          if (due.count() >= warmup) measured[t].push_back(r->last_position);
        }
      });
    }
    start = Clock::now() + std::chrono::milliseconds(50);
    ready.arrive_and_wait();
  }
  const auto ended = Clock::now();
  if (failed) return Failure("append failed: " + error);
  const uint64_t last = (*store)->CommittedPosition();
  if (!(*runner)->WaitForPosition(last, std::chrono::seconds(60))) {
    return Failure("the views did not reach position " + std::to_string(last) + ": " +
                   (*runner)->failure());
  }
  (*runner)->Stop();

  std::vector<int64_t> lag_ns;
  for (const auto& positions : measured) {
    for (uint64_t p : positions) {
      auto c = commits.Reached(p), v = published.Reached(p);
      if (!c || !v)
        return Failure("no commit or publication recorded for position " + std::to_string(p));
      lag_ns.push_back(std::max<int64_t>(0, (*v - *c).count()));
    }
  }
  const double achieved =
      static_cast<double>(last) / std::chrono::duration<double>(ended - start).count();
  const double ms = 1e6;
  const double p50 = Percentile(lag_ns, 50) / ms, p99 = Percentile(lag_ns, 99) / ms,
               max = Percentile(lag_ns, 100) / ms;
  const MemoryUse mem = ProcessMemory();
  if (tsv) {
    std::printf("lag\t%.0f\t%.0f\t%.3f\t%.3f\t%.3f\t%llu\t%zu\t%llu\n", rate, achieved, p50, p99,
                max, (unsigned long long)lag_ns.size(), published.size(),
                (unsigned long long)mem.peak);
  } else {
    std::printf(
        "projection lag (commit -> views published), all views, open loop at %.0f events/s,\n"
        "%d appenders, %.1f s warm-up + %.1f s measured\n",
        rate, appenders, warmup, seconds);
    std::printf("  achieved   %.0f events/s (%llu events, %zu views batches)\n", achieved,
                (unsigned long long)last, published.size());
    std::printf("  lag        p50 %.2f ms   p99 %.2f ms   max %.2f ms   (%zu events measured)\n",
                p50, p99, max, lag_ns.size());
    std::printf("  target     p99 <= 50 ms: %s\n", p99 <= 50 ? "pass" : "short");
    std::printf("  process    peak RSS %.1f MiB\n", mem.peak / 1048576.0);
  }
  return 0;
}

}  // namespace caseledger::tools
