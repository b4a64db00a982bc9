// caseledger-bench relay: the NATS relay's throughput into JetStream and the lag from a
// commit on the primary to the same position in a read replica's views (docs/nats.md, docs/benchmarks.md).
//
// The log is the demo workload (the real Piedmont curve through Decide) in a temp dir.
// For each replica count R of --replicas:
//  - throughput: a relay starts on the filled log (a backlog of N events) and the time
//    until JetStream acknowledged all N gives events/s (stream BENCH_R<R>_<pid>);
//  - lag: the same events are appended again, command by command, at --rate events/s
//    into a second store whose relay feeds a replica (NatsReplicaFeed + the five views,
//    as `serve --replica-of` runs them); each position's lag runs from the return of its
//    Append to the moment the replica's views publish it (polled every 200 µs).
// Needs a NATS server with JetStream (--nats URL[,URL...]; R > 1 needs a cluster); it
// leaves its streams behind, so give it a throwaway server (ops/bench does).
// Output: a table, or with --format tsv one line per R:
//   relay <R> <events/s> <events> <lag p50 ms> <lag p99 ms> <lag events> <rate>
#include "workload/bench_stats.h"
#include "workload/bench_views.h"
#include "tools/bench_scratch.h"
#include "tools/tools.h"
#include "workload/demo_workload.h"
#include "app/flags.h"
#include "app/reference_files.h"
#include "eventstore/event_store.h"
#include "eventstore/nats_relay.h"
#include "eventstore/nats_replica_feed.h"
#include "projections/view_runner.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <thread>

#include <unistd.h>

namespace caseledger::tools {

using namespace workload;  // the library these tools are the front of
namespace {

using Clock = std::chrono::steady_clock;

struct RelayBenchOptions {
  std::vector<std::string> urls;
  std::vector<int> replicas{1, 3};
  int64_t scale = 100;
  domain::Date from = domain::Date::FromYmd(2020, 10, 1);
  domain::Date to = domain::Date::FromYmd(2020, 10, 31);
  double rate = 1000;        // events/s in the lag run
  double lag_seconds = 5;    // length of the lag run
  bool tsv = false;
};

struct RelayFigures {
  double per_second = 0;
  uint64_t events = 0;
  double lag_p50_ms = 0, lag_p99_ms = 0;
  uint64_t lag_events = 0;
  std::string error;
};

eventstore::RelayOptions Relay(const RelayBenchOptions& o, int replicas, const std::string& tag) {
  eventstore::RelayOptions r;
  r.urls = o.urls;
  r.replicas = replicas;
  r.stream = "BENCH_" + tag;
  r.subject_prefix = "caseledger.bench." + tag;
  r.checkpoint_name = "bench-" + tag;
  return r;
}

bool WaitFor(const std::function<bool()>& done, std::chrono::seconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

// Appends the events of `source` (positions 1..count) again into `target`, one append per
// run of consecutive events of a stream (a command's events), paced at `rate` events/s;
// `committed_at[p]` gets the time the append of position p returned.
bool Replay(eventstore::EventStore& source, eventstore::EventStore& target, uint64_t count, double rate,
            std::vector<Clock::time_point>& committed_at, std::string* error) {
  auto log = source.ReadLog(1, count);
  if (!log) {
    *error = log.error().message;
    return false;
  }
  const auto start = Clock::now();
  size_t i = 0;
  while (i < log->size()) {
    eventstore::AppendRequest request;
    request.stream = (*log)[i].stream;
    request.actor = (*log)[i].actor;
    for (; i < log->size() && (*log)[i].stream == request.stream; ++i) {
      const domain::Envelope& e = (*log)[i];
      request.events.push_back({e.type, e.schema_version, e.body, e.personal, e.effective_at});
      if (request.events.size() >= 8) {
        ++i;
        break;
      }
    }
    std::this_thread::sleep_until(start + std::chrono::duration_cast<Clock::duration>(
                                              std::chrono::duration<double>(i / rate)));
    auto r = target.Append(request);
    if (!r) {
      *error = "append: " + r.error().message;
      return false;
    }
    const auto now = Clock::now();
    for (uint64_t p = r->first_position; p <= r->last_position; ++p) committed_at[p] = now;
  }
  return true;
}

RelayFigures RunOne(const RelayBenchOptions& o, eventstore::EventStore& source, const std::string& base,
                    int replicas, std::shared_ptr<const domain::ReferenceData> reference,
                    std::shared_ptr<const domain::RuleBook> rules) {
  RelayFigures f;
  const std::string tag = "R" + std::to_string(replicas) + "_" + std::to_string(::getpid());
  f.events = source.CommittedPosition();
  // Throughput: the whole log as a backlog.
  {
    auto t0 = Clock::now();
    auto relay = eventstore::NatsRelay::Start(source, Relay(o, replicas, tag));
    if (!WaitFor([&] { return relay->Status().resyncs >= 1; }, std::chrono::seconds(60))) {
      f.error = "the relay did not reach JetStream: " + relay->Status().failure;
      return f;
    }
    if (!WaitFor([&] { return relay->Status().acked_position == f.events; }, std::chrono::seconds(600))) {
      f.error = "relay did not finish: " + relay->Status().failure;
      return f;
    }
    f.per_second = f.events / std::chrono::duration<double>(Clock::now() - t0).count();
  }
  // Lag: a paced replay into a second store, relayed, applied by a replica's views.
  eventstore::StoreOptions so;
  so.path = base + "/lag-" + tag;
  so.master_key_path = base + "/master.key";
  auto target = eventstore::EventStore::Open(so);
  if (!target) {
    f.error = target.error().message;
    return f;
  }
  const std::string lag_tag = "L" + tag;
  auto relay = eventstore::NatsRelay::Start(**target, Relay(o, replicas, lag_tag));
  eventstore::ReplicaFeedOptions fo;
  fo.urls = o.urls;
  fo.stream = "BENCH_" + lag_tag;
  fo.subject_prefix = "caseledger.bench." + lag_tag;
  fo.durable = "bench-replica";
  eventstore::NatsReplicaFeed feed(fo);
  projections::RunnerOptions ro;
  ro.path = base + "/replica-views-" + tag;
  ro.rules = rules;
  ro.remote_log = true;
  ro.sync = true;
  ro.poll = std::chrono::milliseconds(20);
  auto runner = projections::ViewRunner::Open(feed, MakeAllViews(reference, rules), ro);
  if (!runner) {
    f.error = runner.error().message;
    return f;
  }
  projections::ViewRunner* views = runner->get();
  feed.Start(0, [views] { return views->Position(); });
  views->Start();
  // Measure the steady state, not the stream's creation (an election on a cluster).
  if (!WaitFor([&] { return relay->Status().resyncs >= 1 && feed.Status().connected && feed.Status().failure.empty(); },
               std::chrono::seconds(60))) {
    f.error = "relay or replica did not start: " + relay->Status().failure + feed.Status().failure;
    return f;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const uint64_t count = std::min<uint64_t>(f.events, uint64_t(o.rate * o.lag_seconds));
  std::vector<Clock::time_point> committed_at(count + 1), seen_at(count + 1);
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    uint64_t seen = 0;
    while (seen < count && !done.load()) {
      const uint64_t p = std::min<uint64_t>(views->Position(), count);
      if (p > seen) {
        const auto now = Clock::now();
        for (uint64_t q = seen + 1; q <= p; ++q) seen_at[q] = now;
        seen = p;
      } else {
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    }
  });
  std::string error;
  const bool replayed = Replay(source, **target, count, o.rate, committed_at, &error);
  const bool applied = replayed && WaitFor([&] { return views->Position() >= count; }, std::chrono::seconds(120));
  done.store(true);
  watcher.join();
  views->Stop();
  feed.Stop();
  relay->Stop();
  if (!replayed || !applied) {
    f.error = !replayed ? error : "the replica did not apply the run: " + views->failure() + feed.Status().failure;
    return f;
  }
  std::vector<int64_t> lags;
  for (uint64_t p = 1; p <= count; ++p) {
    lags.push_back(std::chrono::duration_cast<std::chrono::microseconds>(seen_at[p] - committed_at[p]).count());
  }
  f.lag_events = count;
  f.lag_p50_ms = Percentile(lags, 50) / 1000.0;
  f.lag_p99_ms = Percentile(lags, 99) / 1000.0;
  return f;
}

}  // namespace

int RunBenchRelay(const Args& args) {
  constexpr char kUsage[] =
      "usage: caseledger-bench relay --nats URL[,URL...] [--replicas 1,3] [--scale N] [--from D] [--to D] "
      "[--rate EVENTS_PER_S] [--seconds S] [--format table|tsv]";
  Flags flags(args, {"nats", "replicas", "scale", "from", "to", "rate", "seconds", "format", "data"});
  if (!flags.ok()) return UsageError(flags.error() + "\n" + kUsage);
  RelayBenchOptions o;
  std::stringstream urls(flags.GetOr("nats", ""));
  for (std::string u; std::getline(urls, u, ',');) {
    if (!u.empty()) o.urls.push_back(u);
  }
  if (o.urls.empty()) return UsageError(std::string("--nats is required\n") + kUsage);
  o.replicas.clear();
  std::stringstream reps(flags.GetOr("replicas", "1,3"));
  for (std::string r; std::getline(reps, r, ',');) {
    int n = std::atoi(r.c_str());
    if (n < 1 || n > 5) return UsageError("--replicas takes counts from 1 to 5, like 1,3");
    o.replicas.push_back(n);
  }
  o.scale = std::atoll(flags.GetOr("scale", "100").c_str());
  auto from = domain::Date::Parse(flags.GetOr("from", "2020-10-01"));
  auto to = domain::Date::Parse(flags.GetOr("to", "2020-10-31"));
  o.rate = std::atof(flags.GetOr("rate", "1000").c_str());
  o.lag_seconds = std::atof(flags.GetOr("seconds", "5").c_str());
  const std::string format = flags.GetOr("format", "table");
  o.tsv = format == "tsv";
  if (!from || !to || o.scale < 1 || !(o.rate > 0) || !(o.lag_seconds > 0) || (format != "table" && !o.tsv)) {
    return UsageError(std::string("bad --from/--to/--scale/--rate/--seconds/--format\n") + kUsage);
  }
  o.from = *from;
  o.to = *to;
  auto reference = app::LoadReferenceData(app::DefaultReferenceDir());
  auto rules = app::LoadRuleBook(app::DefaultRulesDir());
  if (!reference || !rules) return Failure("cannot load reference data or rules");
  auto book = std::make_shared<const domain::RuleBook>(std::move(*rules));

  const BenchScratch scratch(flags, "relay");
  const std::string& base = scratch.path();
  eventstore::StoreOptions so;
  so.path = base + "/store";
  so.master_key_path = base + "/master.key";  // the demo records personal data, sealed as in serve
  auto store = eventstore::EventStore::Open(so);
  if (!store) return Failure(store.error().message);
  DemoOptions demo;
  demo.from = o.from;
  demo.to = o.to;
  demo.scale = o.scale;
  std::string error;
  std::fprintf(stderr, "loading %s..%s at 1:%lld ...\n", o.from.ToString().c_str(), o.to.ToString().c_str(),
               (long long)o.scale);
  if (!LoadDemoWorkload(**store, *reference, app::DefaultReferenceDir(), demo, &error)) return Failure(error);

  if (!o.tsv) {
    std::printf("NATS relay: %llu demo events; lag at %.0f events/s for %.0f s, commit -> replica views\n",
                (unsigned long long)(*store)->CommittedPosition(), o.rate, o.lag_seconds);
    std::printf("%-9s %14s %14s %14s\n", "replicas", "events/s", "lag p50 ms", "lag p99 ms");
  }
  for (int replicas : o.replicas) {
    RelayFigures f = RunOne(o, **store, base, replicas, *reference, book);
    if (!f.error.empty()) return Failure("R" + std::to_string(replicas) + ": " + f.error);
    if (o.tsv) {
      std::printf("relay\t%d\t%.0f\t%llu\t%.2f\t%.2f\t%llu\t%.0f\n", replicas, f.per_second,
                  (unsigned long long)f.events, f.lag_p50_ms, f.lag_p99_ms, (unsigned long long)f.lag_events, o.rate);
    } else {
      std::printf("R%-8d %14.0f %14.2f %14.2f\n", replicas, f.per_second, f.lag_p50_ms, f.lag_p99_ms);
    }
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace caseledger::tools
