// Sorted runs of the bulk import (bulk_import.h), private to eventstore: what the import
// would otherwise keep in memory until Commit (the claims; the stream index has runs of its
// own, bulk_index_runs.h, but sorts its streams by SortByName below) is written, a
// bounded batch at a time, as sorted table files in its work directory, and merged at the
// end into the files RocksDB ingests. A key may be in several runs: the newest run's value
// is the one that counts (a key seed replaced by an erasure's tombstone, a claim taken and
// released).
//
// Thread safety: one thread at a time, but for WriteRun and MergeRange (see there).
#pragma once

#include "eventstore/event_store.h"

#include <rocksdb/env.h>
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

// What a table file is filled through: counts its entries (RocksDB refuses an empty file)
// and, given `samples`, keeps every kSampleEvery-th key (the first included) there.
struct TableSink {
  static constexpr uint64_t kSampleEvery = 4096;
  rocksdb::SstFileWriter& writer;
  uint64_t entries = 0;
  std::vector<std::string>* samples = nullptr;
  rocksdb::Status Put(std::string_view key, std::string_view value) {
    Count(key);
    return writer.Put(rocksdb::Slice(key.data(), key.size()), rocksdb::Slice(value.data(), value.size()));
  }
  rocksdb::Status Delete(std::string_view key) {
    Count(key);
    return writer.Delete(rocksdb::Slice(key.data(), key.size()));
  }

 private:
  void Count(std::string_view key) {
    if (samples && entries % kSampleEvery == 0) samples->emplace_back(key);
    ++entries;
  }
};

// Where keys are cut into `parts` ranges of about as many keys each, by `samples` of them
// (in any order, each standing for as many keys): the cuts, strictly ascending (none: one
// range). Balance only: any cuts give the same merged entries.
std::vector<std::string> CutsOf(std::vector<std::string_view> samples, size_t parts);

// Sorts `items` bytewise by the name `name_of(item)` gives (a std::string_view), as
// std::sort by name would, but comparing integers: the eight bytes that follow the prefix
// every name shares, loaded once per item, then, among items whose eight bytes are equal,
// the next eight, and so on (names of a run, streams "person-<ULID>" and claims, share long
// prefixes and often the next eight bytes too: std::sort's string compares were most of the
// time the import spent sorting its runs, and the fall-back to whole names after the first
// eight bytes was still a third of it). Names equal up to trailing zero bytes are ordered by
// the names themselves.
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
  auto eight_at = [&](uint32_t i, size_t offset) {
    const std::string_view name = name_of(items[i]);
    uint64_t key = 0;  // big-endian, zero-padded: a shorter name sorts first, as bytewise
    for (size_t b = 0; b < 8; ++b) {
      key = (key << 8) | (offset + b < name.size() ? static_cast<uint8_t>(name[offset + b]) : 0);
    }
    return key;
  };
  std::vector<std::pair<uint64_t, uint32_t>> keys(items.size());
  for (size_t i = 0; i < items.size(); ++i) keys[i] = {eight_at(static_cast<uint32_t>(i), common), static_cast<uint32_t>(i)};
  // Ranges of `keys` to sort by their integer, with the offset it was loaded from.
  struct Range {
    size_t begin, end, offset;
  };
  std::vector<Range> todo{{0, keys.size(), common}};
  while (!todo.empty()) {
    const Range r = todo.back();
    todo.pop_back();
    std::sort(keys.begin() + static_cast<std::ptrdiff_t>(r.begin), keys.begin() + static_cast<std::ptrdiff_t>(r.end),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (size_t i = r.begin; i < r.end;) {
      size_t j = i + 1;
      while (j < r.end && keys[j].first == keys[i].first) ++j;
      if (j - i > 1) {
        size_t longest = 0;
        for (size_t k = i; k < j; ++k) longest = std::max(longest, name_of(items[keys[k].second]).size());
        if (r.offset + 8 < longest) {
          for (size_t k = i; k < j; ++k) keys[k].first = eight_at(keys[k].second, r.offset + 8);
          todo.push_back({i, j, r.offset + 8});
        } else {  // every byte compared: equal but for trailing zero bytes
          std::sort(keys.begin() + static_cast<std::ptrdiff_t>(i), keys.begin() + static_cast<std::ptrdiff_t>(j),
                    [&](const auto& a, const auto& b) { return name_of(items[a.second]) < name_of(items[b.second]); });
        }
      }
      i = j;
    }
  }
  std::vector<T> sorted;
  sorted.reserve(items.size());
  for (const auto& [key, i] : keys) sorted.push_back(std::move(items[i]));
  items = std::move(sorted);
}

// A sorted sequence of entries merged as one more run, newer than every run file: the
// entries the import still holds in memory at Commit, which need not be written as a run
// and read back. Keys strictly increasing.
class RunCursor {
 public:
  virtual ~RunCursor() = default;
  virtual void Seek(std::string_view target) = 0;  // to the first entry >= target
  virtual bool Valid() const = 0;
  virtual std::string_view key() const = 0;
  virtual std::string_view value() const = 0;
  virtual void Next() = 0;
};

// What a run is written through (SortedRuns::Fill): Put appends an entry to the run's file,
// keeps every TableSink::kSampleEvery-th key (for CutsOf) and every kMarkEvery-th key with
// where its entry starts (for Find and a merge's Seek).
class RunSink {
 public:
  static constexpr uint64_t kMarkEvery = 64;
  rocksdb::Status Put(std::string_view key, std::string_view value);
  uint64_t entries() const { return entries_; }
  // A key of the run and where its entry starts in the file.
  struct Mark {
    std::string key;
    uint64_t offset = 0;
  };

 private:
  friend class SortedRuns;
  RunSink(rocksdb::WritableFile& file, std::vector<std::string>& samples, std::vector<Mark>& marks)
      : file_(file), samples_(samples), marks_(marks) {}
  rocksdb::Status Flush();

  rocksdb::WritableFile& file_;
  std::vector<std::string>& samples_;
  std::vector<Mark>& marks_;
  std::string buffer_;
  uint64_t flushed_ = 0;  // bytes of the file before buffer_
  uint64_t entries_ = 0;
};

// A run's file read from an offset on through a buffer of its own (1 MiB): what the
// claims' runs (SortedRuns) and the stream index's (bulk_index_runs.h) read their entries
// with. `ends_within` is the error when the file ends inside a read.
class RunFileBytes {
 public:
  // `file` (not owned) is read up to `bytes` (its size; unknown: the largest value).
  RunFileBytes(rocksdb::RandomAccessFile* file, uint64_t bytes, const char* ends_within);
  // The next Read starts at `offset`; the buffer is dropped.
  void Seek(uint64_t offset);
  // Copies the next n bytes; false at the file's end (an error, status(), unless nothing
  // was read and `at_end_ok`) or on a read error.
  bool Read(void* out, size_t n, bool at_end_ok = false);
  const rocksdb::Status& status() const { return status_; }

 private:
  rocksdb::RandomAccessFile* file_;
  uint64_t bytes_;
  const char* ends_within_;
  std::unique_ptr<char[]> scratch_;
  const char* data_ = nullptr;
  size_t size_ = 0, used_ = 0;  // of data_
  uint64_t offset_ = 0;         // of the file, after data_
  rocksdb::Status status_;
};

// The runs, each a file of its entries one after another, in key order: the key's size (4
// bytes), the key, the value's size (4), the value, in the machine's byte order (the file
// lives only as long as the process that wrote it). Written as table files through
// RocksDB's writer and read back through its reader (until 2026-12-07), a run's entry cost
// ~0.2 us each way, ~30 M claims at 1:1; a Find reads the entries between two marks.
class SortedRuns {
 public:
  // Runs are files `path_prefix`-N.run, through `env` (null: the default). Removed by the
  // destructor.
  explicit SortedRuns(std::string path_prefix, rocksdb::Env* env = nullptr);
  ~SortedRuns();
  SortedRuns(const SortedRuns&) = delete;
  SortedRuns& operator=(const SortedRuns&) = delete;

  using Fill = std::function<rocksdb::Status(RunSink&)>;
  // Writes one more run; `fill` puts keys in strictly increasing order (none: no run).
  // WriteRun(NextPath(), fill), then Add.
  StoreResult<void> Write(const Fill& fill);

  // A run written by WriteRun, not yet one of the runs (Add).
  struct RunFile {
    std::string path;
    uint64_t entries = 0;  // none: no file was left
    uint64_t bytes = 0;
    std::vector<std::string> samples;  // every TableSink::kSampleEvery-th key
    std::vector<RunSink::Mark> marks;  // every RunSink::kMarkEvery-th key, the first included
  };
  // The path of the next run: each call reserves one more, newer than the ones before.
  std::string NextPath() { return prefix_ + "-" + std::to_string(reserved_++) + ".run"; }
  // Writes a run at `path` (a NextPath) as Write does, without making it one of the runs.
  // It touches nothing of this object but its Env: it may run on another thread while
  // this one uses every other method.
  StoreResult<RunFile> WriteRun(std::string path, const Fill& fill) const;
  // Makes `file` the newest run (nothing, when it has no entries). Runs are added in the
  // order of their NextPath: newer after older.
  void Add(RunFile file);
  // The newest run's value of `key`; nullopt when no run has it.
  StoreResult<std::optional<std::string>> Find(std::string_view key);
  using Visit = std::function<rocksdb::Status(std::string_view key, std::string_view value)>;
  // Visits every key of every run once, in order, with the newest run's value; stops at the
  // first status of `visit` that is not OK and returns it as kIo.
  StoreResult<void> Merge(const Visit& visit) { return MergeRange({}, {}, nullptr, visit); }
  // The same for the keys in [lower, upper) (an empty `upper`: to the end), with `newest`
  // (may be null) merged as the newest run. It reads through files of its own, so that
  // several ranges can be merged at once on different threads (with no Write meanwhile).
  StoreResult<void> MergeRange(std::string_view lower, std::string_view upper, RunCursor* newest,
                               const Visit& visit) const;

  size_t runs() const { return files_.size(); }
  uint64_t entries() const { return entries_; }
  // Every TableSink::kSampleEvery-th key of each run, sorted run by run (for CutsOf).
  const std::vector<std::string>& samples() const { return samples_; }

 private:
  std::string prefix_;
  rocksdb::Env* env_;
  uint64_t reserved_ = 0;  // paths handed out by NextPath
  std::vector<RunFile> files_;  // their samples moved to samples_
  std::vector<std::string> samples_;
  std::vector<std::unique_ptr<rocksdb::RandomAccessFile>> readers_;  // opened by Find
  std::string found_;  // Find's read
  uint64_t entries_ = 0;
};

}  // namespace caseledger::eventstore::bulk_import_internal
