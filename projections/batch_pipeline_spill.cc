// BatchPipeline's spill of the person entries during a catch-up from scratch
// (people_spill.h says why; projections/FORMAT.md what it means for a crash).
#include "projections/batch_pipeline.h"

#include "projections/person_entry.h"
#include "projections/projections_logger.h"
#include "projections/views_layout.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace caseledger::projections {

eventstore::StoreResult<void> BatchPipeline::SpillPeople(const std::string& dir) {
  if (pending_ != nullptr || deferred_events_ != 0) throw std::logic_error("BatchPipeline::SpillPeople mid-way");
  WaitSpillRemoved();  // an earlier spill's, maybe in the same directory
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return eventstore::StoreError(eventstore::StoreErrorCode::kIo, "cannot create " + dir + ": " + ec.message());
  for (size_t p = 0; p < parts_.size(); ++p) {
    auto spill = PeopleSpill::Create(dir + "/people-" + std::to_string(p));
    if (!spill) return spill.error();
    parts_[p]->spill = std::move(*spill);
    parts_[p]->spill_reads = 0;
    parts_[p]->spill_bytes = 0;
  }
  rows_at_end_.assign(fold_views_.size(), 0);
  for (size_t k = 0; k < fold_views_.size() && !parts_.empty(); ++k) {
    rows_at_end_[k] = parts_[0]->folds[k]->RowsAtEnd() != nullptr;
  }
  spill_dir_ = dir;
  return {};
}

eventstore::StoreResult<void> BatchPipeline::UnspillPeople(ViewsDb& db) {
  // The partitions' people merged in id order (a person is in one partition only) into
  // table files the views database ingests: the people never go through its memtable,
  // flushes and compactions. Two files, split at the middle id of the largest partition
  // (the partitions hash their ids: each is a sample of all), written on two threads: the
  // merge was ~5 s of one core at the end of 2020 at 1:1 (docs/benchmarks.md, session 19).
  // Each step timed for the log line below: the end is serial wall time of a catch-up.
  using Clock = std::chrono::steady_clock;
  const auto began = Clock::now();
  auto since = [](Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); };
  size_t people = 0;
  std::vector<PeopleSpill::Sorted> lower, upper;
  {
    // The partitions' indexes sorted on two threads: one after the other on this thread
    // they were 0.54 s of 2020 at 1:1's end (1.03 M people) with the other core idle
    // (docs/benchmarks.md, session 31). Not on the pool: the runner has the views Flush on
    // it meanwhile (view_runner_catch_up.cc), and the pool runs one round at a time.
    std::vector<std::optional<PeopleSpill::Sorted>> sorted(parts_.size());
    auto sort = [&](size_t first) {
      for (size_t p = first; p < parts_.size(); p += 2) {
        if (parts_[p]->spill != nullptr) sorted[p] = parts_[p]->spill->TakeSorted();
      }
    };
    {
      std::jthread odd;
      if (parts_.size() > 1) odd = std::jthread(sort, 1);
      sort(0);
    }
    for (auto& run : sorted) {
      if (run) lower.push_back(std::move(*run));
    }
  }
  for (const auto& run : lower) people += run.size();
  std::string pivot;
  size_t largest = 0;
  for (const auto& run : lower) {
    if (run.size() > largest) {
      largest = run.size();
      pivot = run.Middle();
    }
  }
  if (!pivot.empty()) {
    for (auto& run : lower) upper.push_back(run.SplitAt(pivot));
  }
  // The folds' rows made at the end (rows_at_end_) from the same entries, as they are
  // read: one maker per fold and per merge, the upper's appended to the lower's after.
  using Rows = std::vector<std::unique_ptr<PersonRowsAtEnd>>;
  Rows lower_rows(rows_at_end_.size()), upper_rows(rows_at_end_.size());
  for (size_t k = 0; k < rows_at_end_.size(); ++k) {
    if (!rows_at_end_[k]) continue;
    lower_rows[k] = parts_[0]->folds[k]->RowsAtEnd();
    upper_rows[k] = parts_[0]->folds[k]->RowsAtEnd();
  }
  const bool rows = std::find(rows_at_end_.begin(), rows_at_end_.end(), 1) != rows_at_end_.end();
  const double sorted_s = since(began);
  const auto merging = Clock::now();
  auto merge = [this, rows](std::vector<PeopleSpill::Sorted>& runs, Rows& made) -> ViewsDb::IngestSource {
    return [rows, &runs, &made, parts = std::vector<std::string_view>(fold_views_.size())](
               std::string& key, std::string& value) mutable -> eventstore::StoreResult<bool> {
      PeopleSpill::Sorted* least = nullptr;
      for (auto& run : runs) {
        if (!run.Done() && (least == nullptr || run.Id() < least->Id())) least = &run;
      }
      if (least == nullptr) return false;
      key.assign(layout::kPeoplePrefix).append(least->Id());
      if (auto read = least->Value(value); !read) return read.error();
      if (rows) {
        std::string_view record;
        try {
          if (!SplitPersonEntry(value, record, parts)) throw std::runtime_error("it does not decode");
          for (size_t k = 0; k < made.size(); ++k) {
            if (made[k]) made[k]->Add(least->Id(), record, parts[k]);
          }
        } catch (const std::exception& ex) {
          return eventstore::StoreError(eventstore::StoreErrorCode::kCorruption,
                                        "the spilled entry of " + least->Id() + ": " + ex.what());
        }
      }
      least->Next();
      return true;
    };
  };
  // Their table files without compression: LZ4 was ~57 % of the table writer's
  // instructions (of it ~12 % a 16 KiB stream set up per block), the writer ~90 % of the
  // merge's, and the merge most of the end's serial wall time (docs/benchmarks.md, sessions
  // 31 and 32). The files hold twice the bytes (at 1:1 ~1.2 GB, not ~0.6), and stay so:
  // at the bottom level, apart from every other key, no compaction rewrites them until
  // people written later reach that level. A read of an uncompressed block skips LZ4.
  ViewsDb::IngestOptions people_tables;
  people_tables.compressed = false;
  auto ingested = db.Ingest(std::vector<std::string>{spill_dir_ + "/lower.sst", spill_dir_ + "/upper.sst"},
                            std::vector<ViewsDb::IngestSource>{merge(lower, lower_rows), merge(upper, upper_rows)},
                            people_tables);
  lower.clear();
  upper.clear();
  if (!ingested) return ingested.error();
  const double merged_s = since(merging);
  double appended_s = 0, rows_s = 0;
  for (size_t k = 0; k < lower_rows.size(); ++k) {
    if (!lower_rows[k]) continue;
    const auto appending = Clock::now();
    lower_rows[k]->Append(*upper_rows[k]);
    upper_rows[k].reset();
    const std::string prefix = std::string(fold_names_[k]) + "/";
    auto source = [&prefix](PersonRowsAtEnd& made) -> ViewsDb::IngestSource {
      return [&prefix, &made](std::string& key, std::string& value) -> eventstore::StoreResult<bool> {
        if (!made.Next(key, value)) return false;
        key.insert(0, prefix);
        return true;
      };
    };
    // In two table files written at once when the fold splits its rows (TakeUpperHalf):
    // on the runner's thread alone, the GP rows' file was serial wall at the catch-up's end.
    const std::string path = spill_dir_ + "/rows-" + std::to_string(k);
    std::unique_ptr<PersonRowsAtEnd> upper_half = lower_rows[k]->TakeUpperHalf();
    appended_s += since(appending);
    const auto writing = Clock::now();
    // Without compression too, as the people's (above): at 2020 at 1:1's first 1 M events
    // LZ4 was still ~17 % of the end's instructions in the rows' files alone. The same
    // trade as the people's: on 2020 at 1:1 they hold 59 MB, not 35, until a compaction
    // that reaches them (none had 20 s after ready: docs/benchmarks.md, session 32).
    auto in = upper_half ? db.Ingest(std::vector<std::string>{path + "a.sst", path + "b.sst"},
                                     std::vector<ViewsDb::IngestSource>{source(*lower_rows[k]), source(*upper_half)},
                                     people_tables)
                         : db.Ingest(path + ".sst", source(*lower_rows[k]), people_tables);
    lower_rows[k].reset();
    upper_half.reset();
    if (!in) return in.error();
    rows_s += since(writing);
  }
  EndSpill();
  ProjectionsLog()->info(
      "the catch-up's end: {} people's entries sorted in {:.2f} s, merged and ingested in {:.2f} s; the folds' rows "
      "gathered in {:.2f} s, written and ingested in {:.2f} s; the spill left to a thread of its own",
      people, sorted_s, merged_s, appended_s, rows_s);
  return {};
}

void BatchPipeline::EndSpill() {
  std::vector<std::unique_ptr<PeopleSpill>> spills;
  for (auto& part : parts_) {
    if (part->spill == nullptr) continue;
    part->spill_bytes = part->spill->FileBytes();
    spills.push_back(std::move(part->spill));
  }
  if (spills.empty() && spill_dir_.empty()) return;
  // On a thread of its own: the unlink of a 1:1 catch-up's multi-GiB files (their pages
  // dropped from the page cache with them) took 1.2-1.3 s on the runner's thread, between
  // the last table ingested and ready (docs/benchmarks.md, session 31). Nothing waits for
  // it but the next spill (same directory) and the pipeline's end.
  WaitSpillRemoved();
  spill_removal_ = std::async(std::launch::async, [spills = std::move(spills), dir = std::exchange(spill_dir_, {}),
                                                   hook = before_spill_removed_]() mutable {
    const auto began = std::chrono::steady_clock::now();
    if (hook) hook();
    spills.clear();  // each file closed and unlinked
    if (!dir.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
    ProjectionsLog()->info("the catch-up's spill removed in {:.2f} s, on a thread of its own",
                           std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count());
  });
}

void BatchPipeline::WaitSpillRemoved() {
  if (spill_removal_.valid()) spill_removal_.get();
}

size_t BatchPipeline::SpillReads() const {
  size_t n = 0;
  for (const auto& part : parts_) n += part->spill_reads;
  return n;
}

uint64_t BatchPipeline::SpillFileBytes() const {
  uint64_t n = 0;
  for (const auto& part : parts_) n += part->spill ? part->spill->FileBytes() : part->spill_bytes;
  return n;
}

size_t BatchPipeline::SpillIndexBytes() const {
  size_t n = 0;
  for (const auto& part : parts_) n += part->spill ? part->spill->IndexBytes() : 0;
  return n;
}

}  // namespace caseledger::projections
