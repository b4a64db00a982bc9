// The bulk import's stream index runs (bulk_import.h), private to eventstore: the index
// entries an import gathers (IndexRun: per event, its stream; per stream, where it came in)
// and, once a run is full, the file it is written to and merged from at Commit.
//
// A run's file is not a table file but the run itself, stream by stream in name order: the
// stream's name, its key seed (if the run has one), the version of its first event in the
// run and each event's offset from the run's first position. An index entry's key is its
// stream's name and version and its value the event's position, so a stream's entries in a
// run are consecutive versions: written as a table file of their own (key, value and block
// per entry, through RocksDB's writer, then read back through its reader and merged by key
// in a heap), the runs were ~40 % of the stream index's cost at Commit and a pool thread's
// RocksDB writes during the load; here they are 4 bytes an entry, and the merge compares
// names once per stream and run, not keys once per entry.
//
// The merge gives what a merge of the same entries by key gives (SortedRuns::MergeRange): a
// stream's key seed, the newest run's (an erasure's tombstone, "", included), then its
// entries in version order, which is the runs' order (runs hold consecutive positions, and
// a stream's versions grow with its positions).
//
// Thread safety: one thread at a time, but for WriteRun and MergeRange (see there).
#pragma once

#include "eventstore/bulk_runs.h"
#include "eventstore/event_store.h"

#include <rocksdb/env.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace caseledger::eventstore::bulk_import_internal {

// A stream with index entries (and maybe a key seed) in a run: its name, where it came in.
struct Touched {
  const std::string* name;  // in the import's list of streams, where it stays put
  uint64_t first_version;   // of its first event in the run
  uint32_t slot;            // as first touched: what IndexRun::slots holds
  uint32_t events = 0;      // IndexRun::Sort: its events in the run
  uint32_t begin = 0;       // IndexRun::Sort: where their offsets start in IndexRun::offsets
};

// The stream index entries and key seeds of one run, as the import gathered them: the
// streams in the order it first touched them and, per event in position order, its stream's
// slot (4 bytes an event). A vector of positions per stream, grown event by event, was a
// cache miss and, as it doubled, an allocation, a copy and a free on the import thread (~8 %
// of it at 1:10), and ~11 bytes an event with its slack. Sort puts it in key order (8 bytes
// an event meanwhile); a full run is sorted and written on a pool thread (FlushIndexRun)
// while the next fills.
struct IndexRun {
  uint64_t first = 0;              // the position of its first event
  std::vector<Touched> streams;    // as first touched; by name once sorted
  std::unordered_map<uint32_t, std::string> seeds;  // by slot: a key seed, or "" (an erasure's tombstone)
  std::vector<uint32_t> slots;     // each event's stream; freed by Sort
  std::vector<uint32_t> offsets;   // by Sort: the events' offsets from `first`, by stream name and version

  // Sorts the streams by name and places each event's offset in its stream's slice.
  void Sort();
  // Wipes the seeds and frees everything.
  void Clear();
};

// The index runs written so far, as files `path_prefix`-N.run (removed by the destructor),
// through `env` (null: the default).
class IndexRunFiles {
 public:
  explicit IndexRunFiles(std::string path_prefix, rocksdb::Env* env = nullptr);
  ~IndexRunFiles();
  IndexRunFiles(const IndexRunFiles&) = delete;
  IndexRunFiles& operator=(const IndexRunFiles&) = delete;

  // A run written by WriteRun, not yet one of the runs (Add).
  struct RunFile {
    std::string path;
    uint64_t entries = 0;  // index entries and key seeds; none: no file was left
    // Every kMarkEvery-th stream's name (the first included) and where its record starts:
    // where a merge of a range of streams starts reading.
    struct Mark {
      std::string name;
      uint64_t offset = 0;
    };
    std::vector<Mark> marks;
  };
  static constexpr size_t kMarkEvery = 1024;
  // The path of the next run: each call reserves one more, newer than the ones before.
  std::string NextPath() { return prefix_ + "-" + std::to_string(reserved_++) + ".run"; }
  // Writes `run` (sorted: IndexRun::Sort) at `path` (a NextPath), without making it one of
  // the runs. It touches nothing of this object but its Env: it may run on another thread
  // while this one uses every other method.
  StoreResult<RunFile> WriteRun(const std::string& path, const IndexRun& run) const;
  // Makes `file` the newest run (nothing, when it has no entries). Runs are added in the
  // order of their NextPath: newer after older.
  void Add(RunFile file);

  using Visit = std::function<rocksdb::Status(std::string_view key, std::string_view value)>;
  // Visits, in key order, the stream index entries and key seeds (format::StreamKey,
  // format::EncodePositionRef) of the streams whose StreamPrefix lies in [lower, upper) (an
  // empty bound: open), of every run and of `newest` (may be null: sorted, not changed
  // meanwhile), merged as the newest run; a key seed is the newest run's. Stops at the first
  // status of `visit` that is not OK and returns it as kIo. Reads through files of its own:
  // several ranges may be merged at once on different threads (with no Add meanwhile).
  StoreResult<void> MergeRange(std::string_view lower, std::string_view upper, const IndexRun* newest,
                               const Visit& visit) const;

  size_t runs() const { return files_.size(); }

 private:
  std::string prefix_;
  rocksdb::Env* env_;
  uint64_t reserved_ = 0;  // paths handed out by NextPath
  std::vector<RunFile> files_;
};

}  // namespace caseledger::eventstore::bulk_import_internal
