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

#include <algorithm>
#include <cstdint>
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

// Sorts `items` bytewise by the name `name_of(item)` gives (a std::string_view), as
// std::sort by name would, but comparing first the eight bytes that follow the prefix every
// name shares, loaded once per item as one integer: the names of a run (streams
// "person-<ULID>", claims) share long prefixes, and std::sort's string compares were most
// of the time the import spent sorting its runs. Equal integers fall back to the names.
template <class T, class NameOf>
void SortByName(std::vector<T>& items, NameOf name_of) {
  if (items.size() < 2) return;
  const std::string_view first = name_of(items.front());
  size_t common = first.size();
  for (const T& item : items) {
    const std::string_view name = name_of(item);
    size_t k = 0;
    while (k < common && k < name.size() && name[k] == first[k]) ++k;
    common = k;
  }
  std::vector<std::pair<uint64_t, uint32_t>> keys(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string_view name = name_of(items[i]);
    uint64_t key = 0;  // big-endian, zero-padded: a shorter name sorts first, as bytewise
    for (size_t b = 0; b < 8; ++b) {
      key = (key << 8) | (common + b < name.size() ? static_cast<uint8_t>(name[common + b]) : 0);
    }
    keys[i] = {key, static_cast<uint32_t>(i)};
  }
  std::sort(keys.begin(), keys.end(), [&](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first < b.first;
    return name_of(items[a.second]) < name_of(items[b.second]);
  });
  std::vector<T> sorted;
  sorted.reserve(items.size());
  for (const auto& [key, i] : keys) sorted.push_back(std::move(items[i]));
  items = std::move(sorted);
}

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
