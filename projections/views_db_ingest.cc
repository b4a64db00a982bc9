// ViewsDb's ingestion of entries made elsewhere (views_db.h: Ingest), apart from
// views_db.cc for its length.
#include "projections/views_db.h"
#include "projections/views_db_status.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_writer.h>

#include <cstdio>
#include <filesystem>
#include <future>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace caseledger::projections {

ViewsDb::Result<bool> ViewsDb::WriteTable(const std::string& path, const IngestSource& next,
                                          const IngestOptions& options) const {
  // With the options the database is created with, not its own (db_->GetOptions()): the
  // table files are written while Create's creation may still be syncing its files (~10,
  // 46-58 ms on a busy disk, and a short rebuild's people waited for it: docs/benchmarks.md,
  // session 31). They are the same options.
  rocksdb::Options table = *table_options_;
  if (!options.compressed) table.compression = rocksdb::kNoCompression;  // the writer's choice (no bottommost one set)
  rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), table);
  bool open = false;
  std::string key, value;
  for (;;) {
    auto more = next(key, value);
    if (!more) {
      if (open) std::remove(path.c_str());
      return more.error();
    }
    if (!*more) break;
    if (!open) {
      if (rocksdb::Status s = writer.Open(path); !s.ok()) return FromStatus(s, ("create " + path).c_str());
      open = true;
    }
    if (rocksdb::Status s = writer.Put(key, value); !s.ok()) {
      std::remove(path.c_str());
      return FromStatus(s, ("write " + path).c_str());
    }
  }
  if (!open) return false;
  if (rocksdb::Status s = writer.Finish(); !s.ok()) {
    std::remove(path.c_str());
    return FromStatus(s, ("finish " + path).c_str());
  }
  return true;
}

ViewsDb::Result<void> ViewsDb::Ingest(const std::string& path, const IngestSource& next, const IngestOptions& options) {
  return Ingest(std::vector<std::string>{path}, std::vector<IngestSource>{next}, options);
}

ViewsDb::Result<void> ViewsDb::Ingest(const std::vector<std::string>& paths, const std::vector<IngestSource>& sources,
                                      const IngestOptions& options) {
  if (paths.size() != sources.size()) throw std::invalid_argument("ViewsDb::Ingest: a path per source");
  // Each table file on a thread of its own (the last on the caller's): the entries'
  // encoding, compression and filters are most of an ingestion's CPU.
  std::vector<std::future<Result<bool>>> others;
  for (size_t i = 0; i + 1 < sources.size(); ++i) {
    others.push_back(std::async(std::launch::async, [this, &paths, &sources, &options, i] {
      return WriteTable(paths[i], sources[i], options);
    }));
  }
  std::vector<Result<bool>> written;
  std::optional<Result<bool>> last;
  if (!sources.empty()) last = WriteTable(paths.back(), sources.back(), options);
  for (auto& other : others) written.push_back(other.get());
  if (last) written.push_back(std::move(*last));
  std::vector<std::string> files;
  std::optional<eventstore::StoreError> error;
  for (size_t i = 0; i < written.size(); ++i) {
    if (!written[i]) {
      if (!error) error = written[i].error();
    } else if (*written[i]) {
      files.push_back(paths[i]);
    }
  }
  auto remove = [&files] {
    for (const std::string& file : files) std::remove(file.c_str());  // the database's links stay
  };
  if (error) {
    remove();
    return *error;
  }
  return IngestFiles(files);
}

ViewsDb::Result<void> ViewsDb::IngestFiles(const std::vector<std::string>& files) {
  auto remove = [&files] {
    for (const std::string& file : files) std::remove(file.c_str());  // the database's links stay
  };
  if (files.empty()) return {};
  {
    std::lock_guard lock(held_mu_);
    if (!held_dir_.empty()) {
      // Moved, not linked: the caller may remove its directory once this returns (the
      // people's spill does).
      for (const std::string& file : files) {
        std::string kept = held_dir_ + "/held-" + std::to_string(++held_count_) + ".sst";
        std::error_code ec;
        std::filesystem::rename(file, kept, ec);
        if (ec) {
          remove();
          return eventstore::StoreError(eventstore::StoreErrorCode::kIo,
                                        "cannot move " + file + " to " + kept + ": " + ec.message());
        }
        held_.push_back(std::move(kept));
      }
      return {};
    }
  }
  // Only the ingestion needs the database itself.
  if (auto ready = Ready(); !ready) {
    remove();
    return ready.error();
  }
  rocksdb::IngestExternalFileOptions io;
  io.move_files = true;  // a hard link: the file becomes the database's
  // A file whose keys overlap the database's gets a sequence number: kept in the MANIFEST
  // only, not also written into the file (a write and a sync of the file more per
  // ingestion; RocksDB's own advice for a database no RocksDB older than 5.16 opens).
  io.write_global_seqno = false;
  rocksdb::Status s = db_->IngestExternalFile(files, io);
  remove();
  if (!s.ok()) return FromStatus(s, ("ingest " + files.front()).c_str());
  return {};
}

void ViewsDb::HoldIngestions(const std::string& dir) {
  std::lock_guard lock(held_mu_);
  held_dir_ = dir;
}

ViewsDb::Result<void> ViewsDb::IngestHeld(bool ingest) {
  std::vector<std::string> files;
  {
    std::lock_guard lock(held_mu_);
    files.swap(held_);
    held_dir_.clear();
  }
  if (!ingest) {
    for (const std::string& file : files) std::remove(file.c_str());
    return {};
  }
  return IngestFiles(files);
}

}  // namespace caseledger::projections
