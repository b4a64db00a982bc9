// caseledger bench rebuild: all views rebuilt from scratch, beside a raw scan of the same
// log (SPEC §9: rebuild >= 0.5x the scan and >= 1M events/s). The log is the demo workload
// (the real Piedmont curve through Decide) in a temp dir, removed afterwards.
#include "app/bench_stats.h"
#include "app/commands.h"
#include "app/demo_workload.h"
#include "app/flags.h"
#include "app/reference_files.h"
#include "eventstore/event_store.h"
#include "projections/gp_view.h"
#include "projections/lab_view.h"
#include "projections/municipality_view.h"
#include "projections/region_view.h"
#include "projections/school_view.h"
#include "projections/view_runner.h"

#include <chrono>
#include <cstdio>
#include <filesystem>

#include <unistd.h>

namespace caseledger::app {

int RunBenchRebuild(const Args& args) {
  Flags flags(args, {"data", "scale", "from", "to", "runs"});
  if (!flags.ok()) return UsageError(flags.error());
  auto from = domain::Date::Parse(flags.GetOr("from", "2020-10-01"));
  auto to = domain::Date::Parse(flags.GetOr("to", "2020-12-31"));
  int64_t scale = std::atoll(flags.GetOr("scale", "100").c_str());
  int runs = std::atoi(flags.GetOr("runs", "3").c_str());
  if (!from || !to || scale < 1 || runs < 1) return UsageError("bad --from/--to/--scale/--runs");
  auto reference = LoadReferenceData(DefaultReferenceDir());
  auto rules = LoadRuleBook(DefaultRulesDir());
  if (!reference || !rules) return Failure("cannot load reference data or rules");
  auto book = std::make_shared<const domain::RuleBook>(std::move(*rules));

  const char* tmp = std::getenv("TMPDIR");
  std::string base = flags.GetOr("data", tmp && *tmp ? tmp : "/tmp") + "/caseledger-bench-rebuild-" +
                     std::to_string(::getpid());
  struct Cleanup {
    std::string dir;
    ~Cleanup() { std::filesystem::remove_all(dir); }
  } cleanup{base};
  std::filesystem::create_directories(base);
  eventstore::StoreOptions so;
  so.path = base + "/store";
  so.master_key_path = base + "/master.key";
  auto store = eventstore::EventStore::Open(so);
  if (!store) return Failure(store.error().message);
  DemoOptions demo;
  demo.from = *from;
  demo.to = *to;
  demo.scale = scale;
  std::string error;
  std::fprintf(stderr, "loading %s..%s at 1:%lld ...\n", from->ToString().c_str(), to->ToString().c_str(),
               (long long)scale);
  if (!LoadDemoWorkload(**store, *reference, DefaultReferenceDir(), demo, &error)) return Failure(error);
  const uint64_t events = (*store)->CommittedPosition();

  using Clock = std::chrono::steady_clock;
  std::vector<double> scan, rebuild;
  for (int r = 0; r < runs; ++r) {
    auto t0 = Clock::now();
    uint64_t seen = 0;
    for (uint64_t pos = 1; pos <= events;) {
      auto chunk = (*store)->ReadLog(pos, 65536);
      if (!chunk || chunk->empty()) return Failure("scan failed");
      seen += chunk->size();
      pos += chunk->size();
    }
    scan.push_back(seen / std::chrono::duration<double>(Clock::now() - t0).count());

    std::vector<std::unique_ptr<projections::View>> views;
    views.push_back(std::make_unique<projections::MunicipalityView>(*reference));
    views.push_back(std::make_unique<projections::RegionView>(*reference));
    views.push_back(std::make_unique<projections::LabView>());
    views.push_back(std::make_unique<projections::SchoolView>(book));
    views.push_back(std::make_unique<projections::GpView>(book));
    projections::RebuildOptions ro;
    ro.path = base + "/views-" + std::to_string(r);
    ro.rules = book;
    auto t1 = Clock::now();
    auto built = projections::Rebuild(**store, std::move(views), ro);
    if (!built) return Failure("rebuild failed: " + built.error().message);
    rebuild.push_back(events / std::chrono::duration<double>(Clock::now() - t1).count());
  }
  double scan_med = Median(scan), rebuild_med = Median(rebuild);
  std::printf("rebuild of all views (5 views + person directory) vs raw log scan, %llu events, %d runs\n",
              (unsigned long long)events, runs);
  std::printf("raw scan (ReadLog)   %12.0f events/s (median)\n", scan_med);
  std::printf("rebuild              %12.0f events/s (median)\n", rebuild_med);
  std::printf("ratio                %12.2fx   (target >= 0.5x and >= 1,000,000 events/s)\n",
              rebuild_med / scan_med);
  return 0;
}

}  // namespace caseledger::app
