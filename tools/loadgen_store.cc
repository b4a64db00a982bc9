// caseledger-loadgen --sink store: the generated workload (demo_workload.h: the real
// Piedmont DPC curve, scaled 1:N, every command through Decide) appended straight into a
// store, each day's appends spread over --appenders concurrent appenders so that group
// commit batches them (one WAL sync per group). For scale runs: the store is left in
// DATA/store, where `caseledger serve --data DATA` and `caseledger-bench rebuild --store
// DATA/store` find it. Deterministic for a seed: the same flags give the same event bodies.
// With --sink import the same workload is bulk-loaded instead (eventstore/bulk_import.h,
// docs/import.md): sorted files ingested at once, into an empty store.
//
// With --format tsv prints one line:
//   loadgen-store <events> <seconds> <events/s> <disk bytes/event> <people> <rejected>
//                 <swabs> <positives> <loader peak rss bytes>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <pthread.h>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "workload/bench_views.h"
#include "tools/tools.h"
#include "workload/demo_workload.h"
#include "app/flags.h"
#include "app/reference_files.h"
#include "domain/events.h"
#include "eventstore/bulk_import.h"
#include "eventstore/event_store.h"

namespace caseledger::tools {

using namespace workload;  // the library these tools are the front of

namespace {

// The bulk import on a thread of its own, a batch behind the generator (a day's requests,
// or fewer: DemoAppender::HandOffEvery), so that generating and deciding and encoding and
// adding to the import (encoding the events, checks, sealing, records, runs) use both
// cores. At most four batches wait. The first error of the import is answered to the next
// Add and to Finish. A batch's vector, emptied once added, goes back to the generator to be
// filled again (DemoOptions::sink).
class ImportThread {
 public:
  explicit ImportThread(eventstore::BulkImport& bulk) : feed_(bulk), thread_([this] { Run(); }) {}
  ~ImportThread() { (void)Finish(); }

  // Takes the day's requests; leaves in `day` an emptied earlier day, if there is one.
  eventstore::StoreResult<void> Add(DecidedBatch& day) {
    std::unique_lock l(mu_);
    space_.wait(l, [&] { return error_ || days_.size() < 4; });
    if (error_) return *error_;
    days_.push_back(std::move(day));
    day = std::move(spare_);
    spare_ = {};
    work_.notify_one();
    return {};
  }

  // Waits until every day was added. After it, the import is the caller's again.
  eventstore::StoreResult<void> Finish() {
    {
      std::lock_guard l(mu_);
      done_ = true;
    }
    work_.notify_one();
    if (thread_.joinable()) thread_.join();
    if (error_) return *error_;
    return {};
  }

 private:
  void Run() {
    pthread_setname_np(pthread_self(), "cl-import");
    for (;;) {
      DecidedBatch day;
      {
        std::unique_lock l(mu_);
        work_.wait(l, [&] { return done_ || !days_.empty(); });
        if (days_.empty()) return;
        day = std::move(days_.front());
        days_.pop_front();
      }
      space_.notify_one();
      if (auto added = feed_.Add(day); !added) {
        std::lock_guard l(mu_);
        error_ = added.error();
        days_.clear();
        space_.notify_all();
        return;
      }
      day.clear();
      std::lock_guard l(mu_);
      if (spare_.appends.capacity() < day.appends.capacity()) spare_ = std::move(day);
    }
  }

  DemoImportFeed feed_;  // on the thread only
  std::mutex mu_;
  std::condition_variable work_, space_;
  std::deque<DecidedBatch> days_;
  DecidedBatch spare_;  // an emptied day, for the generator to fill again
  bool done_ = false;
  std::optional<eventstore::StoreError> error_;
  std::thread thread_;  // last: starts once the rest is ready
};

}  // namespace

int RunLoadgenStore(const Args& args) {
  constexpr char kUsage[] =
      "usage: caseledger-loadgen --sink store|import --data DIR [--from 2020-10-01] [--to 2020-10-31]\n"
      "         [--scale 1:N] [--seed N] [--appenders 64] [--format table|tsv] [--resume]\n"
      "         [--people-in-memory 262144]\n"
      "  --people-in-memory: generated people kept decoded; the others wait in a file in DIR\n"
      "  --resume: the store holds the start of this same load (stopped): generate it again,\n"
      "            append only what the store lacks";
  Flags flags(args,
              {"sink", "data", "from", "to", "scale", "seed", "appenders", "format", "reference",
               "people-in-memory"},
              {"resume"});
  if (!flags.ok()) return UsageError(flags.error() + "\n" + kUsage);
  if (!flags.Has("data")) return UsageError(std::string("--data is required\n") + kUsage);
  DemoOptions o;
  auto from = domain::Date::Parse(flags.GetOr("from", "2020-10-01"));
  auto to = domain::Date::Parse(flags.GetOr("to", "2020-10-31"));
  std::string scale = flags.GetOr("scale", "1:1000");
  if (scale.starts_with("1:")) scale = scale.substr(2);
  char* end = nullptr;
  o.scale = std::strtoll(scale.c_str(), &end, 10);
  if (!from || !to || *end != '\0' || o.scale < 1)
    return UsageError(std::string("bad --from/--to/--scale\n") + kUsage);
  o.from = *from;
  o.to = *to;
  o.seed = std::strtoull(flags.GetOr("seed", "1").c_str(), nullptr, 10);
  o.appenders = std::atoi(flags.GetOr("appenders", "64").c_str());
  if (o.appenders < 1 || o.appenders > 512) return UsageError("--appenders is 1 to 512");
  const long long in_memory = std::atoll(flags.GetOr("people-in-memory", "262144").c_str());
  if (in_memory < 1) return UsageError("--people-in-memory is at least 1");
  o.people_in_memory = static_cast<size_t>(in_memory);
  o.spill_dir = flags.GetOr("data", "");
  const bool tsv = flags.GetOr("format", "table") == "tsv";
  const std::string reference_dir = flags.GetOr("reference", app::DefaultReferenceDir());
  auto reference = app::LoadReferenceData(reference_dir);
  if (!reference) return Failure(reference.error().message);

  eventstore::StoreOptions so;
  so.path = flags.GetOr("data", "") + "/store";
  so.master_key_path = flags.GetOr("data", "") + "/master.key";  // where serve looks for it
  std::filesystem::create_directories(so.path);
  auto store = eventstore::EventStore::Open(so);
  if (!store) return Failure(store.error().message);
  const bool resume = flags.Has("resume");
  const bool bulk_load = flags.GetOr("sink", "store") == "import";
  if (bulk_load && resume) return UsageError("--resume goes with --sink store: a bulk import is all or nothing");
  // `serve` on the store adopts the shipped rule sets into the "rules" stream: those events
  // are not the workload's (it writes person streams and one grant).
  auto rules = (*store)->StreamVersion(std::string(domain::kRulesStream));
  if (!rules) return Failure(rules.error().message);
  const uint64_t foreign = *rules;
  const uint64_t held = (*store)->CommittedPosition() - foreign;
  if (held + foreign != 0 && !resume) {
    return Failure(so.path +
                   " already holds events: the generated ids would clash; use an empty --data"
                   " (or --resume to finish the same load)");
  }
  o.resume_after = held;
  if (held != 0) {
    std::fprintf(stderr,
                 "loadgen: resuming after the %llu events of the workload the store holds (and "
                 "%llu rule adoptions)\n",
                 (unsigned long long)held, (unsigned long long)foreign);
  }
  const auto started = std::chrono::steady_clock::now();
  auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  int days = 0;
  o.on_day = [&](domain::Date day, uint64_t events) {
    if (++days % 30 == 0) {
      std::fprintf(stderr, "loadgen: %s, %llu events, %.0f s\n", day.ToString().c_str(),
                   (unsigned long long)events, seconds());
    }
  };
  std::fprintf(stderr, "loadgen: Piedmont %s..%s at 1:%lld into %s (seed %llu, %d appenders)\n",
               o.from.ToString().c_str(), o.to.ToString().c_str(), (long long)o.scale,
               so.path.c_str(), (unsigned long long)o.seed, o.appenders);
  std::unique_ptr<eventstore::BulkImport> bulk;
  std::unique_ptr<ImportThread> importer;
  if (bulk_load) {
    eventstore::BulkImportOptions bo;
    bo.work_dir = flags.GetOr("data", "") + "/import.tmp";
    auto begun = eventstore::BulkImport::Begin(**store, bo);
    if (!begun) return Failure("cannot start the import: " + begun.error().message);
    bulk = std::move(*begun);
    importer = std::make_unique<ImportThread>(*bulk);
    o.sink = [&](DecidedBatch& day) { return importer->Add(day); };
  }
  std::string error;
  auto report = LoadDemoWorkload(**store, *reference, reference_dir, o, &error);
  const double generated = seconds();
  if (importer) {
    auto finished = importer->Finish();
    if (report && !finished) return Failure("import failed, nothing was imported: " + finished.error().message);
  }
  if (!report) return Failure(error);
  if (bulk) {
    const double added = seconds();
    auto committed = bulk->Commit();
    if (!committed) return Failure("import failed, nothing was imported: " + committed.error().message);
    // The load's tail: what runs after the generator's last batch (the import's queue, then
    // the Commit's merges and ingestion), which only the import's threads can shorten.
    std::fprintf(stderr,
                 "loadgen: generated in %.1f s; the import's last batches added %.1f s later, committed %.1f s "
                 "after them: a tail of %.1f s\n",
                 generated, added - generated, seconds() - added, seconds() - generated);
  }
  const double load_seconds = seconds();
  const uint64_t events = (*store)->CommittedPosition() - foreign;
  if (events != report->events) {
    return Failure("the store holds " + std::to_string(events) + " events where the load generated " +
                   std::to_string(report->events));
  }
  // A bulk import's files are ingested at the bottom level, without overlaps and compressed
  // as compaction would: compacting them again would only compress the log a second time.
  if (!bulk_load) {
    if (auto compacted = (*store)->CompactAll(); !compacted) return Failure(compacted.error().message);
  }
  const double per_event = events ? static_cast<double>((*store)->DiskBytes()) / events : 0;
  const MemoryUse mem = ProcessMemory();
  if (tsv) {
    std::printf("loadgen-store\t%llu\t%.1f\t%.0f\t%.1f\t%llu\t%llu\t%lld\t%lld\t%llu\n",
                (unsigned long long)events, load_seconds, events / load_seconds, per_event,
                (unsigned long long)report->people, (unsigned long long)report->rejected,
                (long long)report->swabs, (long long)report->positives,
                (unsigned long long)mem.peak);
    return 0;
  }
  std::printf("loaded %d days (%s..%s, 1:%lld): %llu people, %llu commands, %llu events\n",
              report->days, o.from.ToString().c_str(), o.to.ToString().c_str(), (long long)o.scale,
              (unsigned long long)report->people, (unsigned long long)report->commands,
              (unsigned long long)events);
  std::printf(
      "  %lld swabs, %lld positives, %lld recoveries, %lld deaths; short of the scaled series: "
      "%lld/%lld/%lld/%lld; %d days off the hospital levels; %llu commands rejected\n",
      (long long)report->swabs, (long long)report->positives, (long long)report->recoveries,
      (long long)report->deaths, (long long)report->swabs_short, (long long)report->positives_short,
      (long long)report->recoveries_short, (long long)report->deaths_short,
      report->hospital_days_off, (unsigned long long)report->rejected);
  std::printf("  load time %.1f s (%.0f events/s, %s)\n", load_seconds, events / load_seconds,
              bulk_load ? "bulk import" : "durable appends");
  std::printf("  on disk %s: %.1f bytes/event (log, stream index, claims)\n",
              bulk_load ? "as ingested" : "after compaction", per_event);
  std::printf("  loader peak RSS %.1f MiB (the generator's people included; not the server's)\n",
              mem.peak / 1048576.0);
  if (report->people_written_out > 0) {
    std::printf("  people written out to the spill file %llu times, read back %llu times, moved %llu times (file %.1f MiB, %llu batches)\n",
                (unsigned long long)report->people_written_out, (unsigned long long)report->people_read_back,
                (unsigned long long)report->people_moved, report->spill_file_bytes / 1048576.0,
                (unsigned long long)report->spill_batches);
    std::printf("  people set aside as dormant %llu, re-tested or looked at from their summary %llu times\n",
                (unsigned long long)report->people_set_aside, (unsigned long long)report->people_light);
  }
  if (!report->first_rejections.empty())
    std::printf("  first rejection: %s\n", report->first_rejections[0].c_str());
  std::printf(
      "next: caseledger-bench rebuild --store %s --from %s --to %s --scale %lld --runs 1 "
      "--compare\n",
      so.path.c_str(), o.from.ToString().c_str(), o.to.ToString().c_str(), (long long)o.scale);
  return 0;
}

}  // namespace caseledger::tools
