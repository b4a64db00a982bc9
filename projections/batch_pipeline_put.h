// Private to projections/ (the batch pipeline's .cc files): what a partition writes of its
// people and its folds' rows (PutPartition), shared by a batch's fold (batch_pipeline.cc)
// and the Flush (batch_pipeline_flush.cc).
#pragma once

#include "projections/batch_pipeline.h"

#include "projections/person_entry.h"

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace caseledger::projections::pipeline_internal {

inline constexpr std::string_view kPeoplePrefix = "people/";

// Below this many events a batch (following the log live: a few events) is applied on the
// runner's thread alone: waking the pool would cost more than it saves.
inline constexpr size_t kParallelFrom = 512;

// With a spill, PutPartition writes its people in stretches of this many: the folds' rows
// of a stretch, then its entries, each stretch's records and fold states still in the
// cache from its rows (~1 KiB a person at 1:1 density) when they are encoded.
inline constexpr size_t kSpillStretch = 256;

// What a partition writes, in `batch`, in key order: its folds' rows (each fold's under its
// view's name, `fold_names`), then the entry of every person of `people` with a record
// (sorted and deduplicated here; a fold's change before registration has its row only):
// the record and the folds' states of the person (person_entry.h); with a spill, the
// entries go there instead, in the order of `people`, which then lists each person once
// (BatchPipeline::Part::unwritten), and the folds marked in `rows_at_end` write no row
// (their rows are made at the spill's end: PersonFold::RowsAtEnd). Each person is looked
// up once, for the folds and the writer (PersonDirectory::TakeToWrite). `Id` converts
// explicitly to std::string_view (std::string_view, PersonKey).
// Throws std::runtime_error saying which part failed.
template <class Id>
void PutPartition(PersonDirectory& dir, const std::vector<PersonFold*>& folds,
                  const std::vector<std::string_view>& fold_names, std::vector<Id>& people,
                  ViewsDb::Batch& batch, PeopleSpill* spill = nullptr, const std::vector<char>* rows_at_end = nullptr) {
  // The spill keeps the latest entry of each person whatever the order they are put in, and
  // its file is read back by id (people_spill.h): sorting its ~0.45 people an event was
  // ~370 instructions an event at 1:1 density (docs/benchmarks.md, session 31).
  if (spill == nullptr) {
    auto view = [](const Id& id) { return std::string_view(id); };
    std::sort(people.begin(), people.end(), [&](const Id& a, const Id& b) { return view(a) < view(b); });
    people.erase(std::unique(people.begin(), people.end(), [&](const Id& a, const Id& b) { return view(a) == view(b); }),
                 people.end());
  }
  PrefixedSink sink(batch);
  std::vector<PersonDirectory::ToWrite> entries;
  std::string key, bytes;  // an entry's key and bytes, reused from one entry to the next
  // The entries of `entries` into the spill, or after the rows in `batch`.
  auto put_entries = [&] {
    try {
      for (size_t k = 0; k < entries.size(); ++k) {
        const PersonDirectory::ToWrite& entry = entries[k];
        PersonDirectory::PrefetchEntryAhead(entries, k);
        EncodePersonEntryTo(*entry.record, entry.states, folds, bytes);
        if (spill != nullptr) {
          spill->Put(entry.id, bytes);
          continue;
        }
        key.assign(kPeoplePrefix).append(entry.id);
        batch.Put(key, bytes);
      }
    } catch (const std::exception& ex) {
      throw std::runtime_error(std::string("persisting the people: ") + ex.what());
    }
  };
  // Without a spill, the records go after every row, in one stretch.
  const size_t stretch = spill != nullptr ? kSpillStretch : std::max<size_t>(people.size(), 1);
  entries.reserve(std::min(stretch, people.size()));
  size_t from = 0;
  do {  // once at least: a fold's rows may change with no person listed (GP view: left_)
    const size_t to = std::min(from + stretch, people.size());
    entries.clear();
    dir.TakeToWrite(people, from, to, entries);
    try {
      for (size_t k = 0; k < folds.size(); ++k) {
        if (rows_at_end != nullptr && (*rows_at_end)[k]) {
          if (from == 0) folds[k]->ForgetChanges();
          continue;
        }
        sink.SetPrefix(fold_names[k]);
        folds[k]->Persist(sink, dir, entries, k);
      }
    } catch (const std::exception& ex) {
      throw std::runtime_error(std::string("persisting the views: ") + ex.what());
    }
    if (spill != nullptr) put_entries();
    from = to;
  } while (from < people.size());
  // The folds' rows sorted alone: the records after them go in key order, and when the
  // folds' keys all sort before the records' (a view's name before "people/"), the Sort
  // below finds the whole batch in order and copies nothing. Sorting rows and records
  // together was ~1.4 % of a catch-up's CPU at 1:1 density (docs/benchmarks.md, session 17).
  batch.Sort();
  if (spill == nullptr) put_entries();
  if (spill != nullptr) {
    if (auto written = spill->Write(); !written) {
      throw std::runtime_error("persisting the people: " + written.error().message);
    }
  }
  batch.Sort();  // on the pool: nothing to do when the rows' keys sort before the records'
}

}  // namespace caseledger::projections::pipeline_internal
