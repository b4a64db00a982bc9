#include "replay/verify_views.h"

#include "projections/view_runner.h"
#include "replay/rules_log.h"
#include "projections/view_set.h"
#include "projections/views_pointer.h"
#include "replay/views_scan.h"

#include <rocksdb/db.h>

#include <filesystem>

namespace caseledger::replay {
namespace {

using eventstore::StoreError;
using eventstore::StoreErrorCode;
using eventstore::StoreResult;

struct ReadOnly {
  std::unique_ptr<rocksdb::DB> db;
  std::unique_ptr<rocksdb::Iterator> it;
};

StoreResult<ReadOnly> OpenReadOnly(const std::string& path) {
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::OpenForReadOnly(rocksdb::Options(), path, &raw);
  if (!s.ok()) return StoreError(StoreErrorCode::kIo, "views database " + path + ": " + s.ToString());
  ReadOnly r;
  r.db.reset(raw);
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  r.it.reset(r.db->NewIterator(ro));
  r.it->SeekToFirst();
  return r;
}

std::string Printable(const rocksdb::Slice& s) {
  std::string out;
  for (char c : s.ToStringView()) out.push_back(std::isprint(static_cast<unsigned char>(c)) ? c : '?');
  return out;
}

// Walks both databases in key order; fills the report at the first difference.
StoreResult<void> Compare(const std::string& live_path, const std::string& rebuilt_path, ViewsVerifyReport& report,
                          const std::function<void(const std::string&)>& progress) {
  auto live = OpenReadOnly(live_path);
  if (!live) return live.error();
  auto rebuilt = OpenReadOnly(rebuilt_path);
  if (!rebuilt) return rebuilt.error();
  rocksdb::Iterator& a = *live->it;
  rocksdb::Iterator& b = *rebuilt->it;
  while (a.Valid() || b.Valid()) {
    int order = !a.Valid() ? 1 : !b.Valid() ? -1 : a.key().compare(b.key());
    if (order < 0) {
      report.first_bad_key = Printable(a.key());
      report.problem = "live views hold " + report.first_bad_key + ", which the rebuild does not";
      return {};
    }
    if (order > 0) {
      report.first_bad_key = Printable(b.key());
      report.problem = "live views lack " + report.first_bad_key + ", which the rebuild holds";
      return {};
    }
    if (a.value() != b.value()) {
      report.first_bad_key = Printable(a.key());
      report.problem = "live views entry " + report.first_bad_key + " differs from the rebuild";
      return {};
    }
    ++report.entries_checked;
    if (progress && report.entries_checked % 1'000'000 == 0) {
      progress("views: compared " + std::to_string(report.entries_checked) + " entries");
    }
    a.Next();
    b.Next();
  }
  if (!a.status().ok() || !b.status().ok()) {
    return StoreError(StoreErrorCode::kIo, "views scan: " + a.status().ToString() + " / " + b.status().ToString());
  }
  return {};
}

}  // namespace

StoreResult<ViewsVerifyReport> VerifyViews(eventstore::EventStore& store, const ViewsVerifyOptions& o) {
  auto pointer = projections::ReadViewsPointer(o.data_dir);
  if (!pointer) return pointer.error();
  auto rules = RulesLog::Read(store);
  if (!rules) return rules.error();
  projections::ViewsPointer p = pointer->value_or(projections::ViewsPointer{"views", rules->last_position()});
  ViewsVerifyReport report;
  report.views_dir = p.dir;
  const std::string live_path = o.data_dir + "/" + p.dir;
  if (!std::filesystem::exists(live_path + "/CURRENT")) {
    return StoreError(StoreErrorCode::kNotFound, "no views database at " + live_path);
  }
  auto checkpoint = ViewsCheckpoint(live_path);
  if (!checkpoint) return checkpoint.error();
  report.checkpoint = *checkpoint;
  if (report.checkpoint > store.CommittedPosition()) {
    report.problem = "live views checkpoint " + std::to_string(report.checkpoint) + " is beyond the log (" +
                     std::to_string(store.CommittedPosition()) + ")";
    return report;
  }
  const std::string work = (o.work_dir.empty() ? o.data_dir : o.work_dir) + "/verify-views";
  std::error_code ec;
  std::filesystem::remove_all(work, ec);
  if (o.progress) {
    o.progress("views: rebuilding from scratch up to position " + std::to_string(report.checkpoint) + " into " + work);
  }
  auto book = rules->Book(p.rules_position);
  projections::RebuildOptions ro;
  ro.path = work;
  ro.rules = book;
  ro.until = report.checkpoint;
  std::unique_ptr<projections::ViewRunner> runner;
  if (report.checkpoint > 0) {
    auto rebuilt = projections::Rebuild(store, projections::MakeViews({o.reference, book, {}}), ro);
    if (!rebuilt) return rebuilt.error();
    runner = std::move(*rebuilt);
  } else {
    // Rebuild(until = 0) means "everything"; an empty checkpoint compares with no event.
    projections::RunnerOptions empty;
    empty.path = work;
    empty.rules = book;
    empty.until = 0;
    auto opened = projections::ViewRunner::Open(store, projections::MakeViews({o.reference, book, {}}), empty);
    if (!opened) return opened.error();
    runner = std::move(*opened);
  }
  runner.reset();  // closes the database: everything it wrote is in it
  auto compared = Compare(live_path, work, report, o.progress);
  std::filesystem::remove_all(work, ec);
  if (!compared) return compared.error();
  return report;
}

}  // namespace caseledger::replay
