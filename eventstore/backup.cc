// A backup is taken by the process that has the databases open (the server, or the CLI when
// no server runs): RocksDB lets one process open a database for writing, and only that one
// can keep its files from being deleted while they are copied.
#include "eventstore/backup.h"

#include "eventstore/access_log.h"
#include "eventstore/personal_vault.h"
#include "eventstore/rocks_backup.h"
#include "eventstore/rocks_status.h"
#include "eventstore/store_logger.h"

#include <rocksdb/db.h>
#include <rocksdb/utilities/backup_engine.h>
#include <sodium.h>

#include <filesystem>
#include <memory>
#include <sstream>

namespace caseledger::eventstore {
namespace fs = std::filesystem;

namespace {

constexpr char kStoreDir[] = "/store";
constexpr char kAccessDir[] = "/access";
constexpr char kSchools[] = "/schools.csv";

uint64_t BytesUnder(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec)) total += it->file_size(ec);
  }
  return total;
}

// The latest backup of a BackupEngine directory, read-only.
struct LatestBackup {
  std::unique_ptr<rocksdb::BackupEngineReadOnly> engine;
  rocksdb::BackupInfo info;
};

StoreResult<LatestBackup> OpenLatest(const std::string& dir) {
  if (!fs::is_directory(dir + "/meta")) return StoreError(StoreErrorCode::kNotFound, "no backup in " + dir);
  rocksdb::BackupEngineReadOnly* raw = nullptr;
  auto s = rocksdb::BackupEngineReadOnly::Open(rocksdb::BackupEngineOptions(dir), rocksdb::Env::Default(), &raw);
  LatestBackup latest;
  latest.engine.reset(raw);
  if (!s.ok()) return StoreErrorFrom(s, "open backup " + dir);
  rocksdb::Status info = latest.engine->GetLatestBackupInfo(&latest.info);
  if (!info.ok()) return StoreErrorFrom(info, "no usable backup in " + dir);
  return latest;
}

StoreResult<ChainTip> ParseTip(const std::string& metadata) {
  const std::string prefix = kBackupMetadataPrefix;
  ChainTip tip;
  std::istringstream in(metadata.substr(metadata.starts_with(prefix) ? prefix.size() : metadata.size()));
  std::string hex;
  size_t bin_len = 0;
  if (!metadata.starts_with(prefix) || !(in >> tip.position >> hex) ||
      sodium_hex2bin(tip.hash.data(), tip.hash.size(), hex.data(), hex.size(), nullptr, &bin_len, nullptr) != 0 ||
      bin_len != tip.hash.size()) {
    return StoreError(StoreErrorCode::kCorruption, "backup metadata does not parse: '" + metadata + "'");
  }
  return tip;
}

// A restored store, opened to read (no master key: personal parts stay sealed).
StoreResult<std::unique_ptr<EventStore>> OpenRestored(const std::string& path) {
  StoreOptions o;
  o.path = path;
  o.create_if_missing = false;
  o.verify_tail_on_open = 1;  // the whole chain is walked by VerifiedTip
  return EventStore::Open(o);
}

// The log's tip at `position` (its hash there), read from a closed store.
StoreResult<std::optional<Hash>> HashAtPosition(const std::string& path, uint64_t position) {
  if (position == 0) return std::optional<Hash>(Hash{});
  auto store = OpenRestored(path);
  if (!store) return store.error();
  auto log = (*store)->ReadLog(position, 1);
  if (!log) return log.error();
  if (log->empty() || log->front().position != position) return std::optional<Hash>();
  return std::optional<Hash>(log->front().hash);
}

// Walks the chain of the closed store at `path`; its tip, or kCorruption.
StoreResult<ChainTip> VerifiedTip(const std::string& path, uint64_t* events) {
  auto report = VerifyStore({path, {}, 1'000'000});
  if (!report) return report.error();
  if (report->first_bad_position != 0) {
    return StoreError(StoreErrorCode::kCorruption,
                      "the restored log does not verify at position " + std::to_string(report->first_bad_position) +
                          ": " + report->problem,
                      0, report->first_bad_position);
  }
  if (events) *events = report->events_checked;
  ChainTip tip{report->events_checked, {}};
  auto hash = HashAtPosition(path, tip.position);
  if (!hash) return hash.error();
  if (*hash) tip.hash = **hash;
  return tip;
}

}  // namespace

StoreResult<BackupReport> BackupDataDir(EventStore& store, AccessLog* access, const std::string& data_dir,
                                        const std::string& dest) {
  std::error_code ec;
  fs::create_directories(dest, ec);
  if (ec) return StoreError(StoreErrorCode::kIo, "cannot create " + dest + ": " + ec.message());
  BackupReport report;
  const uint64_t before = BytesUnder(dest);
  auto backup = store.BackupTo(dest + kStoreDir);
  if (!backup) return backup.error();
  report.backup_id = backup->id;
  report.tip = backup->tip;
  if (access) {
    auto held = access->BackupTo(dest + kAccessDir);
    if (!held) return held.error();
    report.access_sequence = *held;
  }
  if (fs::exists(data_dir + kSchools)) {
    fs::copy_file(data_dir + kSchools, dest + kSchools, fs::copy_options::overwrite_existing, ec);
    if (ec) return StoreError(StoreErrorCode::kIo, "cannot copy schools.csv: " + ec.message());
  }
  report.bytes_total = BytesUnder(dest);
  report.bytes_added = report.bytes_total > before ? report.bytes_total - before : 0;
  return report;
}

namespace {

StoreResult<uint64_t> PositionAtTime(const std::string& path, Timestamp t) {
  auto store = OpenRestored(path);
  if (!store) return store.error();
  // recorded_at never goes backwards along the log: bisect for the last one at or before t.
  uint64_t lo = 0, hi = (*store)->CommittedPosition();
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo + 1) / 2;
    auto e = (*store)->ReadLog(mid, 1);
    if (!e) return e.error();
    if (e->empty()) return StoreError(StoreErrorCode::kCorruption, "gap in the log", 0, mid);
    if (e->front().recorded_at.micros <= t.micros) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return lo;
}

}  // namespace

namespace {

StoreResult<RestoreReport> Restore(const RestoreOptions& options);

}  // namespace

StoreResult<RestoreReport> RestoreDataDir(const RestoreOptions& options) {
  const std::string store_path = options.data_dir + kStoreDir;
  if (fs::exists(store_path) || fs::exists(options.data_dir + kAccessDir)) {
    return StoreError(StoreErrorCode::kInvalidArgument, options.data_dir + " holds a store or an access log: restore into a new data directory");
  }
  auto report = Restore(options);
  if (!report) {
    // Nothing half-restored is left to be served by mistake.
    std::error_code ec;
    fs::remove_all(store_path, ec);
    fs::remove_all(options.data_dir + kAccessDir, ec);
  }
  return report;
}

namespace {

StoreResult<RestoreReport> Restore(const RestoreOptions& options) {
  const std::string store_path = options.data_dir + kStoreDir;
  auto latest = OpenLatest(options.from + kStoreDir);
  if (!latest) return latest.error();
  RestoreReport report;
  report.backup_id = latest->info.backup_id;
  auto backup_tip = ParseTip(latest->info.app_metadata);
  if (!backup_tip) return backup_tip.error();
  report.backup_tip = *backup_tip;
  std::error_code ec;
  fs::create_directories(options.data_dir, ec);
  if (ec) return StoreError(StoreErrorCode::kIo, "cannot create " + options.data_dir + ": " + ec.message());
  auto s = latest->engine->RestoreDBFromBackup(rocksdb::RestoreOptions(), report.backup_id, store_path, store_path);
  if (!s.ok()) return StoreErrorFrom(s, "restore " + options.from + kStoreDir);

  // The backup holds at least its tip, with the same hash: else it is not this log's copy.
  auto at_tip = HashAtPosition(store_path, report.backup_tip.position);
  if (!at_tip) return at_tip.error();
  if (!*at_tip || **at_tip != report.backup_tip.hash) {
    return StoreError(StoreErrorCode::kCorruption, "the restored log does not hold the backup's tip at position " +
                                                       std::to_string(report.backup_tip.position));
  }
  std::optional<uint64_t> cut = options.to_position;
  if (options.to_time) {
    auto p = PositionAtTime(store_path, *options.to_time);
    if (!p) return p.error();
    cut = *p;
  }
  if (cut) {
    auto last = HashAtPosition(store_path, *cut);
    if (!last) return last.error();
    if (!*last) {
      return StoreError(StoreErrorCode::kInvalidArgument,
                        "the backup holds no position " + std::to_string(*cut) + " (its tip is at " +
                            std::to_string(report.backup_tip.position) + " or a little past it)");
    }
    auto removed = TruncateLog(store_path, *cut);
    if (!removed) return removed.error();
    report.events_cut = *removed;
  }
  uint64_t events = 0;
  auto tip = VerifiedTip(store_path, &events);
  if (!tip) return tip.error();
  report.tip = *tip;
  if (cut && tip->position != *cut) {
    return StoreError(StoreErrorCode::kInvalidArgument, "the backup holds positions up to " + std::to_string(tip->position) +
                                                            ", not " + std::to_string(*cut));
  }
  if (auto access = OpenLatest(options.from + kAccessDir); access) {
    const std::string access_path = options.data_dir + kAccessDir;
    s = access->engine->RestoreDBFromBackup(rocksdb::RestoreOptions(), access->info.backup_id, access_path, access_path);
    if (!s.ok()) return StoreErrorFrom(s, "restore " + options.from + kAccessDir);
    AccessLogOptions ao;
    ao.path = access_path;
    auto log = AccessLog::Open(ao);
    if (!log) return log.error();
    auto chain = (*log)->VerifyChain();
    if (!chain) return chain.error();
    if (chain->first_bad_sequence != 0) {
      return StoreError(StoreErrorCode::kCorruption, "the restored access log does not verify at sequence " +
                                                         std::to_string(chain->first_bad_sequence));
    }
    report.access_records = chain->records;
  } else if (access.error().code != StoreErrorCode::kNotFound) {
    return access.error();
  }
  if (fs::exists(options.from + kSchools)) {
    fs::copy_file(options.from + kSchools, options.data_dir + kSchools, fs::copy_options::overwrite_existing, ec);
    if (ec) return StoreError(StoreErrorCode::kIo, "cannot copy schools.csv: " + ec.message());
  }
  StoreLog()->info("restored backup {} of {} into {}: tip at position {} ({} events cut)", report.backup_id,
                   options.from, options.data_dir, report.tip.position, report.events_cut);
  return report;
}

}  // namespace

namespace {

// Every backup of `engine` against its checksums: how many, or the first that fails.
uint32_t VerifyAll(const rocksdb::BackupEngineReadOnly& engine, const std::string& what, std::string& problem) {
  std::vector<rocksdb::BackupInfo> all;
  engine.GetBackupInfo(&all);
  uint32_t verified = 0;
  for (const rocksdb::BackupInfo& b : all) {
    auto s = engine.VerifyBackup(b.backup_id, true);
    if (!s.ok()) {
      problem = what + " " + std::to_string(b.backup_id) + ": " + s.ToString();
      break;
    }
    ++verified;
  }
  return verified;
}

}  // namespace

StoreResult<BackupCheck> VerifyBackupDir(const std::string& dest, const std::string& scratch) {
  BackupCheck check;
  auto latest = OpenLatest(dest + kStoreDir);
  if (!latest) return latest.error();
  check.backups = VerifyAll(*latest->engine, "backup", check.problem);
  if (!check.problem.empty()) return check;
  if (auto access = OpenLatest(dest + kAccessDir); access) {
    VerifyAll(*access->engine, "access-log backup", check.problem);
    if (!check.problem.empty()) return check;
  }
  check.latest_id = latest->info.backup_id;
  auto tip = ParseTip(latest->info.app_metadata);
  if (!tip) return tip.error();
  check.latest_tip = *tip;
  std::error_code ec;
  fs::remove_all(scratch, ec);
  RestoreOptions restore;
  restore.from = dest;
  restore.data_dir = scratch;
  auto restored = RestoreDataDir(restore);
  fs::remove_all(scratch, ec);
  if (!restored) {
    if (restored.error().code != StoreErrorCode::kCorruption) return restored.error();
    check.problem = restored.error().message;
    return check;
  }
  check.events_checked = restored->tip.position;
  check.access_records = restored->access_records;
  return check;
}

}  // namespace caseledger::eventstore
