// ViewsDb's batches kept for table files (views_db.h: WriteAsTable), merged in key order
// and written as tables the database ingests, apart from views_db.cc for its length.
#include "projections/views_db.h"
#include "projections/views_db_batch.h"
#include "projections/views_db_status.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_writer.h>

#include <algorithm>
#include <cstdio>
#include <future>
#include <optional>
#include <queue>
#include <string>
#include <vector>

namespace caseledger::projections {

using views_batch::Record;
using views_batch::Records;

namespace {
// The views' part of a catch-up's end (WriteKeptTables) in this many files at least, written
// at once: its one file was the longest task of the end, beside the people's two.
constexpr size_t kEndTableParts = 2;
}  // namespace

ViewsDb::Result<void> ViewsDb::WriteAsTable(Batch& batch, const std::string& dir) {
  if (batch.count() == 0) return {};
  Keep(batch);
  // As large as a memtable would grow before its flush: as many files of the same size,
  // and so the same compactions.
  if (table_bytes_ < std::max(options_.write_buffer_bytes, options_.catch_up_write_buffer_bytes)) return {};
  return MergeTables(dir);
}

void ViewsDb::Keep(Batch& batch) {
  batch.Sort();  // a key once, in order: the batch's runs (partitions, views) merged
  table_bytes_ += batch.bytes();
  if (table_used_ == table_runs_.size()) table_runs_.emplace_back();
  Batch& run = table_runs_[table_used_++];
  run.Clear();
  // The batch kept, and the caller's batch goes on with the buffer of one written before:
  // a batch whose buffer grew from nothing at every write was ~3 % of a catch-up's CPU in
  // page faults (view_runner_catch_up.cc).
  run.batch_.swap(batch.batch_);
}

ViewsDb::Result<void> ViewsDb::FlushTables(const std::string& dir) {
  auto merged = MergeTables(dir);
  table_runs_.clear();  // their buffers given back: the catch-up is over
  table_used_ = 0;
  table_bytes_ = 0;
  return merged;
}

ViewsDb::Result<std::vector<std::string>> ViewsDb::WriteKeptTables(Batch& last, const std::string& dir,
                                                                  std::string_view apart) {
  // Kept whatever its size: nothing of it may be ingested before the caller's ingestion.
  if (last.count() != 0) Keep(last);
  auto written = WriteMerged(dir, apart, kEndTableParts);
  table_runs_.clear();  // their buffers given back: the catch-up is over
  table_used_ = 0;
  table_bytes_ = 0;
  return written;
}

ViewsDb::Result<void> ViewsDb::MergeTables(const std::string& dir) {
  auto written = WriteMerged(dir, {}, 1);
  if (!written) return written.error();
  return IngestFiles(*written);
}

ViewsDb::Result<std::vector<std::string>> ViewsDb::WriteMerged(const std::string& dir, std::string_view apart,
                                                              size_t parts) {
  std::vector<std::string> files;
  if (table_used_ == 0) return files;
  std::vector<std::vector<Record>> runs(table_used_);
  for (size_t r = 0; r < runs.size(); ++r) {
    Records collect(table_runs_[r].batch_->Data(), runs[r]);
    if (rocksdb::Status s = table_runs_[r].batch_->Iterate(&collect); !s.ok()) return FromStatus(s, "table of a batch");
  }
  // The runs merged in key order; of a key's entries, the newest run's (a later batch's).
  std::vector<const Record*> merged;
  {
    using Head = std::pair<size_t, size_t>;  // run, entry
    auto after = [&runs](const Head& a, const Head& b) {
      const int c = runs[a.first][a.second].key.compare(runs[b.first][b.second].key);
      return c != 0 ? c > 0 : a.first < b.first;
    };
    std::priority_queue<Head, std::vector<Head>, decltype(after)> heads(after);
    for (size_t r = 0; r < runs.size(); ++r) {
      if (!runs[r].empty()) heads.emplace(r, 0);
    }
    auto advance = [&](const Head& h) {
      if (h.second + 1 < runs[h.first].size()) heads.emplace(h.first, h.second + 1);
    };
    while (!heads.empty()) {
      const Head top = heads.top();
      heads.pop();
      const Record& e = runs[top.first][top.second];
      while (!heads.empty() && runs[heads.top().first][heads.top().second].key == e.key) {
        const Head older = heads.top();
        heads.pop();
        advance(older);
      }
      merged.push_back(&e);
      advance(top);
    }
  }
  // The files: [begin, end) of `merged` each, cut where the keys enter or leave those
  // starting with `apart`, the largest cut again into `parts` of equal counts.
  auto side = [apart](const Record* e) {
    if (apart.empty()) return 0;
    const std::string_view k(e->key.data(), e->key.size());
    if (k.starts_with(apart)) return 1;
    return k < apart ? 0 : 2;
  };
  std::vector<std::pair<size_t, size_t>> cuts;
  for (size_t i = 0; i < merged.size(); ++i) {
    if (i == 0 || side(merged[i]) != side(merged[i - 1])) cuts.emplace_back(i, i);
    cuts.back().second = i + 1;
  }
  auto largest = std::max_element(cuts.begin(), cuts.end(), [](const auto& a, const auto& b) {
    return a.second - a.first < b.second - b.first;
  });
  if (parts > 1 && largest != cuts.end() && largest->second - largest->first >= parts) {
    const auto [from, to] = *largest;
    const size_t each = (to - from) / parts;
    std::vector<std::pair<size_t, size_t>> pieces;
    for (size_t k = 0; k < parts; ++k) pieces.emplace_back(from + k * each, k + 1 == parts ? to : from + (k + 1) * each);
    const auto at = cuts.erase(largest);
    cuts.insert(at, pieces.begin(), pieces.end());
  }
  for (size_t f = 0; f < cuts.size(); ++f) files.push_back(dir + "/table-" + std::to_string(++tables_) + ".sst");
  auto write = [&](size_t f) -> Result<void> {
    rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), db_->GetOptions());
    if (rocksdb::Status s = writer.Open(files[f]); !s.ok()) return FromStatus(s, ("create " + files[f]).c_str());
    for (size_t i = cuts[f].first; i < cuts[f].second; ++i) {
      const Record& e = *merged[i];
      if (rocksdb::Status s = e.put ? writer.Put(e.key, e.value) : writer.Delete(e.key); !s.ok()) {
        return FromStatus(s, ("write " + files[f]).c_str());
      }
    }
    if (rocksdb::Status s = writer.Finish(); !s.ok()) return FromStatus(s, ("finish " + files[f]).c_str());
    return {};
  };
  // Each file on a thread of its own (the first on the caller's): the entries' encoding,
  // compression and filters are most of the CPU, and the catch-up's end waits for them.
  std::vector<std::future<Result<void>>> others;
  for (size_t f = 1; f < cuts.size(); ++f) others.push_back(std::async(std::launch::async, write, f));
  std::optional<eventstore::StoreError> error;
  for (size_t f = 0; f < cuts.size(); ++f) {
    Result<void> done = f == 0 ? write(0) : others[f - 1].get();
    if (!done && !error) error = done.error();
  }
  if (error) {
    for (const std::string& file : files) std::remove(file.c_str());
    return *error;
  }
  table_used_ = 0;  // kept with their buffers, for the next batches
  table_bytes_ = 0;
  return files;
}

}  // namespace caseledger::projections
