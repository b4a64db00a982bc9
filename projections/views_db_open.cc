// How the views database is opened: its RocksDB options, the settings a catch-up changes
// (CatchingUp), and a database created for a catch-up from scratch in the background
// (views_db.h: Create), apart from views_db.cc for its length.
#include "projections/views_db.h"
#include "projections/views_db_creation.h"
#include "projections/views_db_status.h"

#include "projections/projections_logger.h"

#include "eventstore/rocks_info_log.h"
#include "eventstore/rocks_memory.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/snapshot.h>
#include <rocksdb/table.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>

namespace caseledger::projections {
namespace {
// Level 0 while catching up: its files are compacted 16 at a time rather than RocksDB's 4.
// A catch-up rewrites the records and rows of the people each batch touched, keys spread
// over the whole key space, so every compaction of level 0 into level 1 rewrites most of
// level 1: the fewer such compactions, the less is rewritten (measured at 1:10 with the
// 1:1 memory ratios, docs/benchmarks.md, 2026-12-03 night: compactions wrote 7.8 times
// what the flushes wrote with RocksDB's defaults). Reads then look at more files, through
// their bloom filters (in memory), which cost far less.
constexpr int kCatchUpLevel0Files = 16;

// The settings CatchingUp changes: the memtable's size and level 0's triggers.
struct Level0Settings {
  size_t write_buffer;
  int compaction_trigger, slowdown_trigger, stop_trigger;
};
// `level0_files`: what level 0 holds now. A catch-up from scratch leaves all its table files
// there, compacted in one go after its end (ViewsDb::WriteAsTable): ~90 files at 1:1, more
// than any trigger. Until that compaction is done, a write would wait for it (RocksDB stops
// writes at the stop trigger, and a flush waits while level 0 is at the slowdown trigger):
// the catch-up's checkpoint, Settle's flush, the live views' first batches. So the stall
// triggers count from the files level 0 holds when the settings are set.
Level0Settings SettingsFor(const ViewsDbOptions& options, bool catching_up, uint64_t level0_files = 0) {
  const rocksdb::Options defaults;
  Level0Settings s{options.write_buffer_bytes, defaults.level0_file_num_compaction_trigger,
                   defaults.level0_slowdown_writes_trigger, defaults.level0_stop_writes_trigger};
  if (catching_up) {
    s = {options.catch_up_write_buffer_bytes != 0 ? options.catch_up_write_buffer_bytes : options.write_buffer_bytes,
         kCatchUpLevel0Files, 3 * kCatchUpLevel0Files, 4 * kCatchUpLevel0Files};
  }
  const int files = static_cast<int>(std::min<uint64_t>(level0_files, 1 << 20));
  s.slowdown_trigger = std::max(s.slowdown_trigger, files + s.compaction_trigger);
  s.stop_trigger = std::max(s.stop_trigger, s.slowdown_trigger + s.compaction_trigger);
  return s;
}

uint64_t FilesAtLevel0(rocksdb::DB& db) {
  uint64_t files = 0;
  std::string value;
  if (db.GetProperty(rocksdb::DB::Properties::kNumFilesAtLevelPrefix + std::string("0"), &value)) {
    files = std::strtoull(value.c_str(), nullptr, 10);
  }
  return files;
}

std::unordered_map<std::string, std::string> Triggers(const Level0Settings& level0) {
  return {
      {"write_buffer_size", std::to_string(level0.write_buffer)},
      {"level0_file_num_compaction_trigger", std::to_string(level0.compaction_trigger)},
      {"level0_slowdown_writes_trigger", std::to_string(level0.slowdown_trigger)},
      {"level0_stop_writes_trigger", std::to_string(level0.stop_trigger)},
  };
}

rocksdb::Options DatabaseOptions(const ViewsDbOptions& options, bool catching_up,
                                 const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::Options o;
  o.info_log = eventstore::RocksInfoLog();  // not a LOG file on the data volume
  o.create_if_missing = true;
  o.compression = rocksdb::kLZ4Compression;
  // A catch-up's people arrive in a table file of their own (Ingest), which has no unique
  // id for the manifest to check it against: RocksDB would warn at every start from
  // scratch. The views are rebuilt from the log whenever they do not load.
  o.verify_sst_unique_id_in_manifest = false;
  // Views are rewritten block by block: keep the memtable large enough for a rebuild's
  // batches and let compaction drop the overwritten versions.
  const Level0Settings level0 = SettingsFor(options, catching_up);
  o.write_buffer_size = level0.write_buffer;
  o.level0_file_num_compaction_trigger = level0.compaction_trigger;
  o.level0_slowdown_writes_trigger = level0.slowdown_trigger;
  o.level0_stop_writes_trigger = level0.stop_trigger;
  // The default skip-list memtable, not an unsorted vector one: the runner reads back at
  // every batch the person records not in its cache (person_directory.h), and a point read
  // in a vector memtable sorts a copy of it. A vector memtable with a bloom filter in
  // front was tried: at 1:1 a batch touches so many people that records leave the cache
  // while still in the memtable, and those sorts took 40 % of the rebuild. The skip list
  // costs ~10 % of a 1:100 rebuild in inserts. Bloom filters (memtable and tables) make
  // the reads of people not yet registered, most reads of a rebuild, nearly free.
  o.memtable_whole_key_filtering = true;
  // Inserts with a hint per area of the key space (the first four bytes: "peop", "gps/",
  // "muni", "inde", ...). A batch is written in sorted runs (Batch::Sort), but between two of
  // its keys the memtable holds the keys of earlier batches; RocksDB's plain insert then
  // searches from the top of the skip list for every key (its sequential hint helps only
  // appends), where a hint moves from the key before (O(log distance) rather than O(log n)).
  o.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(4));
  o.memtable_prefix_bloom_size_ratio = 0.02;
  // Level 1 as large as level 0 may grow while catching up (CatchingUp), so that level 0
  // goes into it whole; following the log, it fills slowly and is compacted as it fills.
  // A catch-up from scratch's table files go into it in one compaction after its end
  // (WriteAsTable): at 1:1, 33 M records in, 15 M out, 368 MiB (docs/benchmarks.md, session
  // 26). A level 1 of a few hundred MiB would be rewritten again into level 2 right after.
  o.max_bytes_for_level_base = uint64_t{2} * kCatchUpLevel0Files *
                               std::max(options.write_buffer_bytes, options.catch_up_write_buffer_bytes);
  rocksdb::BlockBasedTableOptions t;
  t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  // Index and filter blocks stay with their table readers (a few bytes per key: ~10 MiB
  // at 1:1), not in the block cache: in a 32 MiB cache the data blocks of the person reads
  // evicted them, and at 1:1 every read re-read a multi-MiB filter (half the rebuild).
  t.block_cache = cache;
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  return o;
}

// A snapshot of the database before Create's creation is done: nothing was in it (every
// write waits for the creation), so nothing is found as of it.
class NothingYet final : public rocksdb::Snapshot {
 public:
  rocksdb::SequenceNumber GetSequenceNumber() const override { return 0; }
  int64_t GetUnixTime() const override { return 0; }
  uint64_t GetTimestamp() const override { return 0; }
};
const NothingYet kNothingYet;
}  // namespace

bool ViewsDb::NothingAsOf(const rocksdb::Snapshot* at) { return at == &kNothingYet; }

ViewsDb::~ViewsDb() {
  // The creation joined before the members go (its thread writes nothing of ours, but the
  // database it made must be closed), and the completion (it syncs the database's files).
  (void)Ready();
  if (completing_.valid()) completing_.wait();
}

bool ViewsDb::RemoveIfIncomplete(const std::string& path) {
  if (!projections::RemoveIfIncomplete(path)) return false;
  ProjectionsLog()->info("views database {} was never completed (a catch-up from scratch stopped before its "
                         "end): removed, rebuilt from the log",
                         path);
  return true;
}

void ViewsDb::Complete() {
  if (!creation_fs_ || completing_.valid()) return;
  // Off the writer's path (a catch-up's end): until the marker is gone, a crash only costs
  // a catch-up from scratch again, as one before the checkpoint did. Synced first, then
  // unmarked: whatever a power loss keeps, a database without the marker opens.
  completing_ = std::async(std::launch::async, [fs = creation_fs_, path = path_] {
    if (!fs->SyncSkipped(path)) {
      ProjectionsLog()->warn("views database {}: its creation's files cannot be synced; it stays incomplete "
                             "(the next start rebuilds it)", path);
      return;
    }
    if (!UnmarkCreating(path)) {
      ProjectionsLog()->warn("views database {}: cannot remove its {} marker (the next start rebuilds it)", path,
                             kCreatingMarker);
    }
  });
}

ViewsDb::Result<std::unique_ptr<ViewsDb>> ViewsDb::Open(const std::string& path, const ViewsDbOptions& options,
                                                        Settings settings) {
  std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  const bool catching_up = settings == Settings::kCatchingUp;
  const rocksdb::Options o = DatabaseOptions(options, catching_up, cache);
  rocksdb::DB* raw = nullptr;
  eventstore::CreateDatabaseDirectory(path);
  rocksdb::Status s = rocksdb::DB::Open(o, path, &raw);
  if (!s.ok()) return FromStatus(s, "open");
  std::unique_ptr<ViewsDb> db(new ViewsDb());
  db->options_ = options;
  db->catching_up_ = catching_up;
  db->db_.reset(raw);
  db->cache_ = std::move(cache);
  db->table_options_ = std::make_shared<const rocksdb::Options>(o);
  // A catch-up from scratch a crash stopped leaves its table files in level 0 (WriteAsTable),
  // maybe more than the stall triggers: the write that empties the views (ViewsRecovery)
  // would wait for their compaction.
  if (const Level0Settings level0 = SettingsFor(options, catching_up, FilesAtLevel0(*raw));
      level0.slowdown_trigger != o.level0_slowdown_writes_trigger) {
    if (s = raw->SetOptions(Triggers(level0)); !s.ok()) return FromStatus(s, "settings");
  }
  return db;
}

ViewsDb::Result<std::unique_ptr<ViewsDb>> ViewsDb::Create(const std::string& path, const ViewsDbOptions& options,
                                                          Settings settings) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec) && !std::filesystem::is_empty(path, ec)) return Open(path, options, settings);
  std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  const bool catching_up = settings == Settings::kCatchingUp;
  std::unique_ptr<ViewsDb> db(new ViewsDb());
  db->options_ = options;
  db->path_ = path;
  db->catching_up_ = catching_up;
  db->cache_ = cache;
  db->creation_fs_ = std::make_shared<CreationFileSystem>(options.creation_step);
  db->creation_env_ = rocksdb::NewCompositeEnv(db->creation_fs_);
  rocksdb::Options o = DatabaseOptions(options, catching_up, cache);
  o.env = db->creation_env_.get();
  db->table_options_ = std::make_shared<const rocksdb::Options>(std::move(o));
  eventstore::CreateDatabaseDirectory(path);
  db->ready_.store(false, std::memory_order_relaxed);
  db->creating_ = std::async(std::launch::async, [o = db->table_options_, fs = db->creation_fs_, path,
                                                   hook = options.while_creating]() -> Result<rocksdb::DB*> {
    if (hook) hook();
    // The marker durable before any file of the database can be; then RocksDB's ~10 synced
    // files unsynced (views_db_creation.h): 66-102 ms on a busy disk, as long as a short
    // rebuild (docs/benchmarks.md, sessions 32 and 33).
    if (!MarkCreating(path)) {
      return eventstore::StoreError(eventstore::StoreErrorCode::kIo,
                                    "views database: open: cannot write " + path + "/" + kCreatingMarker);
    }
    fs->Skip(true);
    rocksdb::DB* raw = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(*o, path, &raw);
    fs->Skip(false);
    if (!s.ok()) return FromStatus(s, "open");
    return raw;
  });
  return db;
}

ViewsDb::Result<void> ViewsDb::Ready() const {
  if (!ready_.load(std::memory_order_acquire)) {
    std::lock_guard lock(creating_mu_);
    if (!ready_.load(std::memory_order_relaxed)) {
      Result<rocksdb::DB*> created = creating_.get();
      if (created) {
        db_.reset(*created);
      } else {
        creation_error_ = created.error();
      }
      ready_.store(true, std::memory_order_release);
    }
  }
  if (creation_error_) return *creation_error_;
  return {};
}

std::shared_ptr<const rocksdb::Snapshot> ViewsDb::Pin() const {
  // Before the creation is done, or when it failed: the empty database's (NothingAsOf).
  if (!ready_.load(std::memory_order_acquire) || !Ready()) {
    return std::shared_ptr<const rocksdb::Snapshot>(&kNothingYet, [](const rocksdb::Snapshot*) {});
  }
  rocksdb::DB* db = db_.get();
  return std::shared_ptr<const rocksdb::Snapshot>(db->GetSnapshot(),
                                                  [db](const rocksdb::Snapshot* s) { db->ReleaseSnapshot(s); });
}

eventstore::RocksMemory ViewsDb::Memory() const {
  // Nothing held yet while the database is created (a server's /metrics and memory budget
  // ask from other threads: they do not wait for it).
  if (!ready_.load(std::memory_order_acquire) || !Ready()) return {};
  return eventstore::MeasureRocksMemory(*db_, cache_.get());
}

uint64_t ViewsDb::Level0Files() const {
  if (!Ready()) return 0;
  return FilesAtLevel0(*db_);
}

ViewsDb::Result<void> ViewsDb::CatchingUp(bool on) {
  // SetOptions writes a new OPTIONS file and a MANIFEST record, each synced: ~4 syncs.
  if (on == catching_up_) return {};
  if (auto ready = Ready(); !ready) return ready.error();
  rocksdb::Status s = db_->SetOptions(Triggers(SettingsFor(options_, on, FilesAtLevel0(*db_))));
  if (!s.ok()) return FromStatus(s, "settings");
  catching_up_ = on;
  return {};
}

ViewsDb::Result<void> ViewsDb::HoldCompactions() {
  if (compactions_held_) return {};
  if (auto ready = Ready(); !ready) return ready.error();
  // With automatic compactions off, RocksDB stalls no write for level 0's files either.
  rocksdb::Status s = db_->SetOptions({{"disable_auto_compactions", "true"}});
  if (!s.ok()) return FromStatus(s, "settings");
  compactions_held_ = true;
  return {};
}

ViewsDb::Result<void> ViewsDb::ReleaseCompactions() {
  if (!compactions_held_) return {};
  compactions_held_ = false;
  auto settings = Triggers(SettingsFor(options_, catching_up_, FilesAtLevel0(*db_)));
  settings.emplace("disable_auto_compactions", "false");
  rocksdb::Status s = db_->SetOptions(settings);
  if (!s.ok()) return FromStatus(s, "settings");
  return {};
}

}  // namespace caseledger::projections
