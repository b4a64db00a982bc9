// Sorted runs of the bulk import (bulk_import.h), private to eventstore: what the import
// would otherwise keep in memory until Commit (the stream index, the claims) is written, a
// bounded batch at a time, as sorted table files in its work directory, and merged at the
// end into the files RocksDB ingests. A key may be in several runs: the newest run's value
// is the one that counts (a key seed replaced by an erasure's tombstone, a claim taken and
// released).
//
// Thread safety: one thread at a time.
#pragma once

#include "eventstore/event_store.h"

#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_reader.h>
#include <rocksdb/sst_file_writer.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace caseledger::eventstore::bulk_import_internal {

// What a table file is filled through: counts its entries (RocksDB refuses an empty file).
struct TableSink {
  rocksdb::SstFileWriter& writer;
  uint64_t entries = 0;
  rocksdb::Status Put(std::string_view key, std::string_view value) {
    ++entries;
    return writer.Put(rocksdb::Slice(key.data(), key.size()), rocksdb::Slice(value.data(), value.size()));
  }
  rocksdb::Status Delete(std::string_view key) {
    ++entries;
    return writer.Delete(rocksdb::Slice(key.data(), key.size()));
  }
};

class SortedRuns {
 public:
  // Runs are files `path_prefix`-N.sst, bytewise ordered, uncompressed (they are read once
  // or twice, soon after being written). Removed by the destructor.
  explicit SortedRuns(std::string path_prefix);
  ~SortedRuns();
  SortedRuns(const SortedRuns&) = delete;
  SortedRuns& operator=(const SortedRuns&) = delete;

  // Writes one more run; `fill` puts keys in strictly increasing order (none: no run).
  StoreResult<void> Write(const std::function<rocksdb::Status(TableSink&)>& fill);
  // The newest run's value of `key`; nullopt when no run has it.
  StoreResult<std::optional<std::string>> Find(std::string_view key);
  // Visits every key of every run once, in order, with the newest run's value; stops at the
  // first status of `visit` that is not OK and returns it as kIo.
  StoreResult<void> Merge(const std::function<rocksdb::Status(std::string_view key, std::string_view value)>& visit);

  size_t runs() const { return paths_.size(); }
  uint64_t entries() const { return entries_; }

 private:
  StoreResult<void> OpenReaders();

  std::string prefix_;
  rocksdb::Options options_;
  std::vector<std::string> paths_;
  std::vector<std::unique_ptr<rocksdb::SstFileReader>> readers_;  // opened by Find or Merge
  std::vector<std::unique_ptr<rocksdb::Iterator>> iterators_;     // one per reader, before it
  uint64_t entries_ = 0;
};

}  // namespace caseledger::eventstore::bulk_import_internal
