// caseledger-bench append: durable append throughput and latency through the store API
// (docs/benchmarks.md). For each concurrency level, `runs` runs on a fresh store each: C appenders
// append single-event requests to their own person streams for `seconds` after a short
// warm-up, each with one AppendAsync in flight at a time (closed loop), as C clients of a
// server would; two client threads make the requests, as loadgen's do. Prints medians
// over runs, or with --format tsv one line per level:
//   append <concurrency> <median/s> <p50_ms> <p99_ms> <min/s> <max/s> <runs> <events>
//          <disk bytes/event> <mean encoded record bytes> <mean group size> <mean sync ms>
//          <sync ceiling/s> <CPU us per append> <mean write ms>
// Mean group, mean sync and the ceiling come from the store's own counters (StoreStats,
// warm-up included): the mean sync is a group's WAL write and sync alone (to its first
// memtable insert), and the sync ceiling is <concurrency> / <mean sync>, the rate if every
// append waited for exactly one WAL sync and nothing else, which no group commit can beat
// on this file system. The mean write is the group's whole synced write, its memtable
// inserts included: the sync of this bench before session 26, when an appender waited for
// the inserts too (a group is now answered once synced; docs/benchmarks.md). CPU per append is the whole process's user + system time over the
// measured window (clients, group commit, RocksDB's flushes and compactions; not the final
// compaction) divided by the appends completed in it: stable where the rate is not.
// (tab-separated; ops/bench reads them; new fields only ever go at the end).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "workload/bench_stats.h"
#include "workload/bench_workload.h"
#include "tools/tools.h"
#include "app/flags.h"
#include "eventstore/event_store.h"

namespace caseledger::tools {

using namespace workload;  // the library these tools are the front of
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kClientThreads = 2;

struct AppendBenchOptions {
  std::string base_dir;  // fresh stores are made in temp dirs under it
  double seconds = 5;
  double warmup_seconds = 1;
  std::vector<int> concurrency{1, 16, 64};
  int runs = 3;
  bool tsv = false;
};

struct RunResult {
  double per_second = 0;
  uint64_t events = 0;                // all events in the store, warm-up included
  double bytes_per_event = 0;         // live SST bytes after CompactAll, per event
  std::vector<int64_t> latencies_ns;  // appends that completed in the measured window
  double mean_group = 0;              // requests per group commit
  double mean_sync_ms = 0;            // a group commit's WAL write and sync
  double mean_write_ms = 0;           // its whole synced write, memtable inserts included
  double cpu_seconds = 0;             // the process's CPU time over the measured window
  std::string error;
};

// C closed-loop appenders driven by a few client threads, as a server's I/O threads drive
// its connections: a completion callback (on the store's sync thread) only records the
// latency and the outcome; the group's answered appenders are handed to the client threads
// at once, after its last answer (the store's answer hooks: one lock and one wake-up per
// group, not per answer), and a client thread makes and sends each one's next request.
class AppendDriver {
 public:
  AppendDriver(eventstore::EventStore& store, int appenders, int run, Clock::time_point from,
               Clock::time_point until)
      : store_(store), from_(from), until_(until), latencies_(appenders), appended_(appenders, 0), starts_(appenders) {
    for (int a = 0; a < appenders; ++a) {
      writers_.emplace_back(static_cast<uint64_t>(run) << 32 | static_cast<uint64_t>(a));
      ready_.push_back(a);
    }
    running_ = appenders;
    answered_.reserve(appenders);
    store_.AddAnswerHooks({nullptr, [this] { HandOver(); }});
  }

  // Runs `threads` client threads until every appender has stopped; returns the process's
  // CPU seconds between `from` and `until`.
  double Run(int threads) {
    double cpu = 0;
    {
      std::vector<std::jthread> clients;
      for (int t = 0; t < threads; ++t) clients.emplace_back([this] { Client(); });
      std::this_thread::sleep_until(from_);
      cpu = -ProcessCpuSeconds();
      std::this_thread::sleep_until(until_);
      cpu += ProcessCpuSeconds();
    }
    while (handing_over_.load(std::memory_order_acquire) != 0) std::this_thread::yield();
    return cpu;
  }
  std::string error() const { return error_; }
  std::vector<int64_t> Latencies() const {
    std::vector<int64_t> all;
    for (const auto& l : latencies_) all.insert(all.end(), l.begin(), l.end());
    return all;
  }

 private:
  static double ProcessCpuSeconds() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
  }

  // On the sync thread, after a group's answers: its appenders to the client threads. The
  // wake-up after the lock: notified under it, the woken client threads found mu_ still
  // held and slept on it again (a futex wait and wake more a group). Once a client thread
  // sees the last appender stopped, Run returns only after handing_over_ is back to 0, so
  // the driver outlives the notification; nothing of it is touched after the decrement.
  void HandOver() {
    if (answered_.empty()) return;
    handing_over_.fetch_add(1, std::memory_order_relaxed);  // before the appenders are seen (mu_)
    bool many = false;
    {
      std::lock_guard g(mu_);
      ready_.insert(ready_.end(), answered_.begin(), answered_.end());
      many = answered_.size() > 1;
      answered_.clear();
    }
    if (many) {
      cv_.notify_all();
    } else {
      cv_.notify_one();
    }
    handing_over_.fetch_sub(1, std::memory_order_release);
  }

  void Client() {
    // One appender taken at each lock: taking up to 8 at once (each a futex sleep fewer)
    // lengthened the gap between syncs under load (a descheduled thread held back the
    // appenders it had taken; docs/benchmarks.md, session 32).
    std::unique_lock l(mu_);
    for (;;) {
      cv_.wait(l, [&] { return !ready_.empty() || running_ == 0; });
      if (ready_.empty()) return;
      const int a = ready_.front();
      ready_.pop_front();
      const auto start = Clock::now();
      if (start >= until_ || !error_.empty()) {
        if (--running_ == 0) cv_.notify_all();
        continue;
      }
      l.unlock();
      // The appender's answer came before it was queued (under mu_): its writer moves on here,
      // not on the sync thread.
      if (appended_[a]) writers_[a].Appended();
      eventstore::AppendRequest request = writers_[a].Next();
      starts_[a] = start;  // read by its answer, which follows AppendAsync
      // Two words captured: the callback fits std::function's own storage (no allocation).
      store_.AppendAsync(std::move(request), [this, a](eventstore::StoreResult<eventstore::AppendResult> r) {
        const auto end = Clock::now();
        appended_[a] = r ? 1 : 0;
        if (!r) {
          std::lock_guard g(mu_);
          error_ = r.error().message;
        } else if (end >= from_ && end < until_) {
          latencies_[a].push_back((end - starts_[a]).count());  // only this appender's answer writes it
        }
        answered_.push_back(a);
      });
      l.lock();
    }
  }

  eventstore::EventStore& store_;
  const Clock::time_point from_, until_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<int> ready_;                        // appenders with nothing in flight
  int running_ = 0;                              // appenders not yet stopped
  std::vector<PersonHistoryWriter> writers_;     // one per appender
  std::vector<std::vector<int64_t>> latencies_;  // appends completed in [from, until)
  std::vector<char> appended_;                   // per appender: its last append succeeded
  std::vector<Clock::time_point> starts_;        // per appender: when its append in flight was made
  std::vector<int> answered_;                    // the sync thread's: answered in this group
  std::atomic<int> handing_over_{0};             // HandOver calls not yet done with the driver
  std::string error_;
};

RunResult RunOnce(const AppendBenchOptions& options, int concurrency, int run) {
  RunResult out;
  std::string pattern = options.base_dir + "/caseledger-bench-XXXXXX";
  if (!mkdtemp(pattern.data())) {
    out.error = "cannot create a temp dir under " + options.base_dir;
    return out;
  }
  const std::string dir = pattern;
  {
    eventstore::StoreOptions store_options;
    store_options.path = dir + "/store";
    store_options.master_key_path = dir + "/master.key";  // personal parts are sealed, as in serve
    auto store = eventstore::EventStore::Open(store_options);
    if (!store) {
      out.error = "cannot open a store in " + dir + ": " + store.error().message;
    } else {
      auto to_duration = [](double s) {
        return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
      };
      const auto from = Clock::now() + to_duration(options.warmup_seconds);
      const auto until = from + to_duration(options.seconds);
      AppendDriver driver(**store, concurrency, run, from, until);
      out.cpu_seconds = driver.Run(kClientThreads);
      if (!driver.error().empty()) out.error = "append failed: " + driver.error();
      out.latencies_ns = driver.Latencies();
      out.per_second = static_cast<double>(out.latencies_ns.size()) / options.seconds;
      out.events = (*store)->CommittedPosition();
      const eventstore::StoreStats stats = (*store)->Stats();
      if (stats.group_commits > 0) {
        out.mean_group = static_cast<double>(stats.appends) / stats.group_commits;
        out.mean_sync_ms = static_cast<double>(stats.wal_sync_micros) / 1e3 / stats.group_commits;
        out.mean_write_ms = static_cast<double>(stats.sync_micros) / 1e3 / stats.group_commits;
      }
      if (out.error.empty()) {
        if (auto compacted = (*store)->CompactAll(); !compacted) {
          out.error = "compaction failed: " + compacted.error().message;
        } else if (out.events > 0) {
          out.bytes_per_event = static_cast<double>((*store)->DiskBytes()) / out.events;
        }
      }
    }
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return out;
}

std::optional<std::vector<int>> ParseLevels(const std::string& text) {
  std::vector<int> levels;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    char* end = nullptr;
    long v = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || v < 1 || v > 4096) return std::nullopt;
    levels.push_back(static_cast<int>(v));
  }
  if (levels.empty()) return std::nullopt;
  return levels;
}

std::string Fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

int RunAppendBench(const AppendBenchOptions& options) {
  char row[256];
  if (!options.tsv) {
    std::cout << "durable appends (store API, ~" << Fixed(PersonHistoryWriter::MeanRecordBytes(), 0)
              << "-byte events, WAL synced per group commit)\n"
              << "each run: fresh store under " << options.base_dir << ", "
              << Fixed(options.warmup_seconds, 1) << " s warm-up, " << Fixed(options.seconds, 1)
              << " s measured; latency percentiles over all runs' appends\n";
    std::snprintf(row, sizeof row, "%-12s %9s %9s %9s %7s %7s %5s %10s %8s %6s %7s %9s %7s\n",
                  "concurrency", "median/s", "min/s", "max/s", "p50_ms", "p99_ms", "runs", "events",
                  "B/event", "group", "sync_ms", "ceiling/s", "cpu_us");
    std::cout << row << std::flush;
  }
  for (int concurrency : options.concurrency) {
    std::vector<double> rates, sizes, groups, syncs, writes, cpus;
    std::vector<int64_t> latencies;
    uint64_t events = 0;
    for (int run = 1; run <= options.runs; ++run) {
      RunResult r = RunOnce(options, concurrency, run);
      if (!r.error.empty()) return Failure("bench append: " + r.error);
      std::cerr << "append concurrency " << concurrency << " run " << run << "/" << options.runs
                << ": " << Fixed(r.per_second, 0) << "/s\n";
      rates.push_back(r.per_second);
      sizes.push_back(r.bytes_per_event);
      groups.push_back(r.mean_group);
      syncs.push_back(r.mean_sync_ms);
      writes.push_back(r.mean_write_ms);
      if (!r.latencies_ns.empty()) cpus.push_back(r.cpu_seconds * 1e6 / static_cast<double>(r.latencies_ns.size()));
      events += r.latencies_ns.size();
      latencies.insert(latencies.end(), r.latencies_ns.begin(), r.latencies_ns.end());
    }
    double p50 = static_cast<double>(Percentile(latencies, 50)) / 1e6;
    double p99 = static_cast<double>(Percentile(latencies, 99)) / 1e6;
    double min = *std::min_element(rates.begin(), rates.end());
    double max = *std::max_element(rates.begin(), rates.end());
    const double sync_ms = Median(syncs);
    const double ceiling = sync_ms > 0 ? concurrency * 1e3 / sync_ms : 0;
    const double cpu_us = cpus.empty() ? 0 : Median(cpus);
    if (options.tsv) {
      std::snprintf(row, sizeof row,
                    "append\t%d\t%.0f\t%.3f\t%.3f\t%.0f\t%.0f\t%d\t%llu\t%.1f\t%.0f\t%.1f\t%.3f\t%.0f\t%.2f\t%.3f\n",
                    concurrency, Median(rates), p50, p99, min, max, options.runs,
                    static_cast<unsigned long long>(events), Median(sizes),
                    PersonHistoryWriter::MeanRecordBytes(), Median(groups), sync_ms, ceiling, cpu_us, Median(writes));
    } else {
      std::snprintf(row, sizeof row,
                    "%-12d %9.0f %9.0f %9.0f %7.2f %7.2f %5d %10llu %8.1f %6.1f %7.3f %9.0f %7.2f\n",
                    concurrency, Median(rates), min, max, p50, p99, options.runs,
                    static_cast<unsigned long long>(events), Median(sizes), Median(groups),
                    sync_ms, ceiling, cpu_us);
    }
    std::cout << row << std::flush;
  }
  return 0;
}

}  // namespace

int RunBenchAppend(const Args& args) {
  Flags flags(args, {"data", "seconds", "concurrency", "runs", "format"});
  if (!flags.ok()) return UsageError(flags.error());
  if (!flags.positional().empty()) return UsageError("caseledger-bench append takes no positional arguments");
  AppendBenchOptions options;
  const char* tmp = std::getenv("TMPDIR");
  options.base_dir = flags.GetOr("data", tmp && *tmp ? tmp : "/tmp");
  char* end = nullptr;
  std::string seconds = flags.GetOr("seconds", "5");
  options.seconds = std::strtod(seconds.c_str(), &end);
  if (*end != '\0' || !(options.seconds >= 0.1 && options.seconds <= 3600)) {
    return UsageError("--seconds must be a number of seconds between 0.1 and 3600");
  }
  // Long enough to fill the memtable path and reach a steady group size, short next to S.
  options.warmup_seconds = std::clamp(options.seconds / 5, 0.5, 2.0);
  auto levels = ParseLevels(flags.GetOr("concurrency", "1,16,64"));
  if (!levels) return UsageError("--concurrency takes a list of thread counts like 1,16,64");
  options.concurrency = *levels;
  std::string runs = flags.GetOr("runs", "3");
  options.runs = static_cast<int>(std::strtol(runs.c_str(), &end, 10));
  if (*end != '\0' || options.runs < 1 || options.runs > 100) {
    return UsageError("--runs must be between 1 and 100");
  }
  std::string format = flags.GetOr("format", "table");
  if (format != "table" && format != "tsv") return UsageError("--format is table or tsv");
  options.tsv = format == "tsv";
  std::error_code ec;
  if (!std::filesystem::is_directory(options.base_dir, ec)) {
    return Failure("--data " + options.base_dir + " is not a directory");
  }
  return RunAppendBench(options);
}

}  // namespace caseledger::tools
