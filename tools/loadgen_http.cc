// caseledger-loadgen: HTTP load against a running server (docs/benchmarks.md), open loop at a constant
// rate (--rate R: latency from each request's intended send time) or closed loop as fast as
// it answers (--max). Mixes: `commands` (register people, then request, collect and result
// a swab for each, one command per request) and `queries` (GET /v1/people/{id} of people a
// setup phase took through those commands first; the setup is not measured).
// With --sink store, the DPC-driven workload goes straight into a store instead
// (loadgen_store.cc).
// With --peak, Italy's worst day of swabs (loadgen_peak.h), scaled 1:N, goes through the
// `commands` flow as fast as the server answers, with that peak's share of positives.
//
// With --format tsv prints one tab-separated line for ops/bench:
//   loadgen <mix> <rate|max> <connections> <offered/s, 0 for max> <answers/s> <p50_ms>
//           <p99_ms> <p99.9_ms> <max_ms> <requests> <errors> <mean answer bytes>
//           <status:count,...>
// (new fields only ever go at the end). Exit 0 when the load ran, whatever the server
// answered (errors are counted and printed); 1 when it could not run.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <random>

#include "tools/tools.h"
#include "app/flags.h"
#include "workload/http_load.h"
#include "workload/load_workloads.h"
#include "workload/loadgen_peak.h"
#include "app/reference_files.h"

namespace caseledger::tools {

using namespace workload;  // the library these tools are the front of
namespace {

constexpr char kUsage[] =
    "usage: caseledger-loadgen --target http://HOST:PORT --token TOKEN --mix commands|queries\n"
    "         [--connections 64] [--rate R | --max] [--seconds 10] [--warmup 2] [--seed N]\n"
    "         [--threads 1] [--people 2000] [--reference DIR] [--format table|tsv]\n"
    "       caseledger-loadgen --target URL --token T --peak [--scale 1:100] [--connections 64]\n"
    "       caseledger-loadgen --sink store|import --data DIR [--from D] [--to D] [--scale 1:N] [--seed N]";

struct LoadgenOptions {
  HttpTarget target;
  std::string mix;
  LoadOptions load;
  uint64_t seed = 1;
  uint64_t people = 2000;  // queries: people registered in the setup phase
  std::string reference_dir;
  bool tsv = false;
};

bool ParseNumber(const Flags& flags, const char* name, double fallback, double lo, double hi,
                 double& out) {
  std::string text = flags.GetOr(name, std::to_string(fallback));
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return !text.empty() && *end == '\0' && out >= lo && out <= hi;
}

// Takes the people of a (untimed) closed-loop setup through the whole command flow.
bool SetUpPeople(const LoadgenOptions& o, const domain::ReferenceData& reference,
                 std::vector<std::string>& people, std::string& error) {
  LoadOptions setup = o.load;
  setup.rate = 0;
  setup.warmup = 0;
  setup.seconds = 600;
  setup.drain = 0;
  setup.connections = std::min(setup.connections, 32);
  const uint64_t per_thread =
      (o.people + static_cast<uint64_t>(setup.threads) - 1) / static_cast<uint64_t>(setup.threads);
  std::vector<std::unique_ptr<Workload>> workloads;
  // A seed of its own, so that the people differ from those of a `commands` run.
  LoadResult r = RunLoad(
      o.target, setup,
      [&](int thread) {
        return std::make_unique<CaseCommands>(reference, o.seed + 0x5e7u, thread, per_thread);
      },
      &workloads);
  if (!r.fatal.empty()) {
    error = r.fatal;
    return false;
  }
  for (auto& w : workloads) {
    const auto& done = static_cast<CaseCommands&>(*w).completed_people();
    people.insert(people.end(), done.begin(), done.end());
  }
  if (people.size() * 2 < o.people) {
    error = "setup registered only " + std::to_string(people.size()) + " of " +
            std::to_string(o.people) + " people" +
            (r.error_samples.empty() ? "" : "; first error: " + r.error_samples[0]);
    return false;
  }
  return true;
}

std::string StatusList(const LoadResult& r) {
  std::string out;
  for (auto [status, count] : r.statuses) {
    if (!out.empty()) out += ",";
    out += std::to_string(status) + ":" + std::to_string(count);
  }
  if (r.unfinished)
    out += std::string(out.empty() ? "" : ",") + "unfinished:" + std::to_string(r.unfinished);
  return out.empty() ? "-" : out;
}

void Print(const LoadgenOptions& o, const LoadResult& r) {
  const double ms = 1e6;
  const double rate = static_cast<double>(r.answered_in_window) / o.load.seconds;
  const uint64_t requests = r.latency_ns.count();
  const double mean_bytes =
      requests ? static_cast<double>(r.body_bytes) / static_cast<double>(requests) : 0;
  auto p = [&](double q) { return static_cast<double>(r.latency_ns.Percentile(q)) / ms; };
  const double max = static_cast<double>(r.latency_ns.max()) / ms;
  char line[512];
  if (o.tsv) {
    std::snprintf(line, sizeof line,
                  "loadgen\t%s\t%s\t%d\t%.0f\t%.0f\t%.3f\t%.3f\t%.3f\t%.3f\t%llu\t%llu\t%.0f\t",
                  o.mix.c_str(), o.load.rate > 0 ? "rate" : "max", o.load.connections, o.load.rate,
                  rate, p(50), p(99), p(99.9), max, static_cast<unsigned long long>(requests),
                  static_cast<unsigned long long>(r.errors()), mean_bytes);
    std::cout << line << StatusList(r) << "\n";
  } else {
    std::cout << "caseledger-loadgen: " << o.mix << ", "
              << (o.load.rate > 0
                      ? "open loop at " + std::to_string(static_cast<long>(o.load.rate)) + "/s"
                      : std::string("closed loop (as fast as answered)"))
              << ", " << o.load.connections << " connections, " << o.load.threads
              << " client thread(s), http://" << o.target.host << ":" << o.target.port << ", seed "
              << o.seed << "\n";
    std::snprintf(
        line, sizeof line,
        "  %.1f s warm-up, %.1f s measured; latency from each request's %s\n"
        "  achieved   %.0f answers/s\n"
        "  latency    p50 %.2f ms   p99 %.2f ms   p99.9 %.2f ms   max %.2f ms   (%llu requests)\n"
        "  answers    mean %.0f bytes\n",
        o.load.warmup, o.load.seconds, o.load.rate > 0 ? "intended send time" : "send time", rate,
        p(50), p(99), p(99.9), max, static_cast<unsigned long long>(requests), mean_bytes);
    std::cout << line << "  status     " << StatusList(r) << "\n"
              << "  errors     " << r.errors()
              << (r.errors() ? " (non-2xx, failed or unfinished)" : "") << "\n";
    if (r.skipped) std::cout << "  skipped    " << r.skipped << " slots with nothing to send\n";
  }
  for (const std::string& sample : r.error_samples)
    std::cerr << "loadgen: error answer: " << sample << "\n";
}

// --peak: Italy's worst day of swabs, scaled, through the whole command flow as fast as
// the server answers (closed loop), with the worst day's share of positives.
int RunPeak(LoadgenOptions o, const Flags& flags, const domain::ReferenceData& reference,
            const std::string& reference_dir) {
  std::string scale_text = flags.GetOr("scale", "1:100");
  if (scale_text.starts_with("1:")) scale_text = scale_text.substr(2);
  const int64_t scale = std::atoll(scale_text.c_str());
  if (scale < 1) return UsageError("--scale is 1:N with N >= 1");
  auto peak = FindItalyPeak(reference_dir);
  if (!peak) return Failure(peak.error().message);
  const uint64_t people = static_cast<uint64_t>((peak->swabs + scale - 1) / scale);
  const auto permille = static_cast<uint32_t>(1000.0 * peak->positives / peak->swabs + 0.5);
  o.load.rate = 0;
  o.load.warmup = 0;
  o.load.seconds = 3600;
  const uint64_t threads = static_cast<uint64_t>(o.load.threads);
  const uint64_t per_thread = (people + threads - 1) / threads;
  std::cerr << "loadgen: Italy's peak: " << peak->swabs << " swabs on " << peak->swab_day.ToString()
            << ", " << peak->positives << " new positives on " << peak->positive_day.ToString()
            << "; at 1:" << scale << ": " << per_thread * threads << " people, 4 commands each, "
            << permille / 10.0 << " % positive\n";
  const auto started = std::chrono::steady_clock::now();
  LoadResult r = RunLoad(o.target, o.load, [&](int thread) {
    auto w = std::make_unique<CaseCommands>(reference, o.seed, thread, per_thread);
    w->set_positive_permille(permille);
    return w;
  });
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!r.fatal.empty()) return Failure("loadgen: " + r.fatal);
  const uint64_t requests = r.latency_ns.count();
  auto p = [&](double q) { return static_cast<double>(r.latency_ns.Percentile(q)) / 1e6; };
  const double rate = static_cast<double>(requests) / took;
  // The whole day at 1:1, at this rate, in hours.
  const double day_hours = static_cast<double>(peak->swabs) * 4 / rate / 3600;
  char line[512];
  if (o.tsv) {
    std::snprintf(line, sizeof line, "peak\t%lld\t%llu\t%llu\t%.1f\t%.0f\t%.3f\t%.3f\t%.3f\t%.3f\t%llu\t%.2f\n",
                  (long long)scale, (unsigned long long)(per_thread * threads), (unsigned long long)requests,
                  took, rate, p(50), p(99), p(99.9), static_cast<double>(r.latency_ns.max()) / 1e6,
                  (unsigned long long)r.errors(), day_hours);
  } else {
    std::snprintf(line, sizeof line,
                  "caseledger-loadgen --peak: Italy's worst day (%s: %lld swabs) at 1:%lld, closed loop, "
                  "%d connections\n"
                  "  %llu commands in %.1f s: %.0f commands/s; %llu errors\n"
                  "  latency    p50 %.2f ms   p99 %.2f ms   p99.9 %.2f ms   max %.2f ms\n"
                  "  the whole day at 1:1 (%lld x 4 commands) at this rate: %.2f h of 24\n",
                  peak->swab_day.ToString().c_str(), (long long)peak->swabs, (long long)scale,
                  o.load.connections, (unsigned long long)requests, took, rate,
                  (unsigned long long)r.errors(), p(50), p(99), p(99.9),
                  static_cast<double>(r.latency_ns.max()) / 1e6, (long long)peak->swabs, day_hours);
  }
  std::cout << line;
  for (const std::string& sample : r.error_samples) std::cerr << "loadgen: error answer: " << sample << "\n";
  return std::cout.good() ? 0 : Failure("cannot write to stdout");
}

}  // namespace

int RunLoadgen(const Args& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    const bool store = args[i] == "--sink=store" || args[i] == "--sink=import" ||
                       (args[i] == "--sink" && i + 1 < args.size() && (args[i + 1] == "store" || args[i + 1] == "import"));
    if (store) return RunLoadgenStore(args);
  }
  Flags flags(args,
              {"target", "token", "mix", "connections", "rate", "seconds", "warmup", "seed",
               "format", "threads", "people", "reference", "sink", "scale"},
              {"max", "peak"});
  if (!flags.ok()) return UsageError(flags.error() + "\n" + kUsage);
  if (flags.GetOr("sink", "http") != "http")
    return UsageError(std::string("--sink is http, store or import\n") + kUsage);
  if (!flags.positional().empty())
    return UsageError(std::string("loadgen takes no positional arguments\n") + kUsage);
  LoadgenOptions o;
  auto target = ParseHttpUrl(flags.GetOr("target", ""));
  if (!target) return UsageError(std::string("--target must be http://HOST:PORT\n") + kUsage);
  o.target = *target;
  o.target.bearer_token = flags.GetOr("token", "");
  if (o.target.bearer_token.empty())
    return UsageError("--token is required (caseledger token --key DIR/auth.key --sub ID)");
  o.mix = flags.GetOr("mix", "");
  const bool peak = flags.Has("peak");
  if (peak) o.mix = "commands";
  if (o.mix != "commands" && o.mix != "queries") return UsageError("--mix is commands or queries");
  if (peak && flags.Has("rate")) return UsageError("--peak runs as fast as the server answers: no --rate");
  if (!peak && flags.Has("rate") == flags.Has("max"))
    return UsageError("give either --rate R (open loop) or --max (closed loop)");
  double v = 0;
  if (flags.Has("rate")) {
    if (!ParseNumber(flags, "rate", 0, 1, 10'000'000, v))
      return UsageError("--rate is requests per second, 1 to 1e7");
    o.load.rate = v;
  }
  if (!ParseNumber(flags, "connections", 64, 1, 10'000, v))
    return UsageError("--connections is 1 to 10000");
  o.load.connections = static_cast<int>(v);
  if (!ParseNumber(flags, "threads", 1, 1, 64, v)) return UsageError("--threads is 1 to 64");
  o.load.threads = std::min(static_cast<int>(v), o.load.connections);
  if (!ParseNumber(flags, "seconds", 10, 0.1, 3600, o.load.seconds))
    return UsageError("--seconds is 0.1 to 3600");
  if (!ParseNumber(flags, "warmup", 2, 0, 600, o.load.warmup))
    return UsageError("--warmup is 0 to 600 seconds");
  // Without --seed, a fresh one: generated tax codes and swab ids are unique per seed, and a
  // second run against the same store with the same seed would be answered 409.
  if (flags.Has("seed")) {
    if (!ParseNumber(flags, "seed", 1, 0, 1e15, v)) return UsageError("--seed is a whole number");
    o.seed = static_cast<uint64_t>(v);
  } else {
    o.seed = std::random_device{}() % 1'000'000'000;
  }
  if (!ParseNumber(flags, "people", 2000, 1, 10'000'000, v))
    return UsageError("--people is 1 to 1e7");
  o.people = static_cast<uint64_t>(v);
  std::string format = flags.GetOr("format", "table");
  if (format != "table" && format != "tsv") return UsageError("--format is table or tsv");
  o.tsv = format == "tsv";

  auto reference = app::LoadReferenceData(flags.GetOr("reference", app::DefaultReferenceDir()));
  if (!reference) return Failure(reference.error().message);
  if (peak) return RunPeak(o, flags, **reference, flags.GetOr("reference", app::DefaultReferenceDir()));

  std::vector<std::string> people;
  std::function<std::unique_ptr<Workload>(int)> make;
  if (o.mix == "queries") {
    std::string error;
    std::cerr << "loadgen: setup: registering " << o.people << " people (not measured)\n";
    if (!SetUpPeople(o, **reference, people, error)) return Failure("loadgen setup: " + error);
    // ops/bench starts counting the server's CPU per query at this line.
    std::cerr << "loadgen: setup done: " << people.size() << " people\n";
    make = [&](int thread) {
      return std::make_unique<PersonQueries>(people, o.seed * 131 + static_cast<uint64_t>(thread));
    };
  } else {
    make = [&](int thread) { return std::make_unique<CaseCommands>(**reference, o.seed, thread); };
  }
  LoadResult result = RunLoad(o.target, o.load, make);
  if (!result.fatal.empty()) return Failure("loadgen: " + result.fatal);
  Print(o, result);
  return std::cout.good() ? 0 : Failure("cannot write to stdout");
}

}  // namespace caseledger::tools
