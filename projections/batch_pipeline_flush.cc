// BatchPipeline's Flush: every record, fold row and view entry changed since the last one,
// each once (Defer; batch_pipeline.h), and the buffers it and the batches keep.
#include "projections/batch_pipeline.h"

#include "projections/batch_pipeline_put.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace caseledger::projections {

using pipeline_internal::kParallelFrom;
using pipeline_internal::PutPartition;

std::optional<BatchPipeline::Failure> BatchPipeline::Flush(ViewsDb::Batch& out, bool views, bool partitions) {
  if (pending_ != nullptr) throw std::logic_error("BatchPipeline::Flush with a batch folded ahead");
  const size_t n = parts_.size();
  while (flush_parts_.size() < n) flush_parts_.emplace_back();
  std::vector<std::optional<std::string>> failures(n + views_.size());
  const size_t tasks = n + views_.size();
  flush_seconds_.resize(tasks);
  flush_order_.resize(tasks);
  for (size_t k = 0; k < tasks; ++k) flush_order_[k] = k;
  std::stable_sort(flush_order_.begin(), flush_order_.end(),
                   [&](size_t a, size_t b) { return flush_seconds_[a] > flush_seconds_[b]; });
  // The partitions' records and rows, and the views' entries, on the pool: as a batch's.
  // The task that ends the last partition merges their runs (into `people`, scratch: no
  // stage is pending), beside the views' tasks: on the runner's thread after the round it
  // was most of the Flush's serial work (docs/benchmarks.md, session 29).
  ViewsDb::Batch& people = stages_[0].people;
  if (partitions) people.Clear();
  std::atomic<size_t> parts_left{n};
  auto merge_when_last = [&] {
    if (parts_left.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    for (size_t k = 0; k < n; ++k) {
      if (failures[k]) return;  // nothing is written
    }
    std::vector<const ViewsDb::Batch*> runs;
    for (size_t k = 0; k < n; ++k) runs.push_back(&flush_parts_[k]);
    people.Merge(runs);
  };
  auto task = [&](size_t t) {
    const size_t k = flush_order_[t];
    if (k >= n ? !views : !partitions) return;
    const auto started = std::chrono::steady_clock::now();
    struct Timer {
      double& seconds;
      std::chrono::steady_clock::time_point started;
      ~Timer() { seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(); }
    } timer{flush_seconds_[k], started};
    try {
      if (k < n) {
        Part& part = *parts_[k];
        part.ApplyEvict();
        flush_parts_[k].Clear();
        PutPartition(part.directory, part.folds, fold_names_, part.unwritten, flush_parts_[k], part.spill.get(),
                     part.spill ? &rows_at_end_ : nullptr);
      } else {
        View& view = *views_[k - n];
        ViewWork& work = *view_work_[k - n];
        work.batch.Clear();
        PrefixedSink sink(work.batch);
        sink.SetPrefix(view.name());
        view.Persist(sink);
        work.batch.Sort();
      }
    } catch (const std::exception& ex) {
      failures[k] = k < n ? std::string(ex.what()) : std::string("persisting the views: ") + ex.what();
    }
    if (k < n) merge_when_last();
  };
  // The views alone (a catch-up's end): each view's Persist writes all of it, on the pool.
  if (deferred_events_ >= kParallelFrom || !partitions) {
    pool_.Run(tasks, task);
  } else {
    for (size_t k = 0; k < tasks; ++k) task(k);
  }
  if (!partitions) {
    for (auto& failure : failures) {
      if (failure) return Failure{0, std::move(*failure)};
    }
    for (auto& work : view_work_) out.Append(work->batch);
    return std::nullopt;
  }
  for (auto& part : parts_) {
    part->unwritten.clear();
    part->flushing_events += part->unwritten_events;
    part->unwritten_events = 0;
  }
  deferred_events_ = 0;
  flushing_batches_ += deferred_batches_;
  deferred_batches_ = 0;
  for (auto& failure : failures) {
    if (failure) return Failure{0, std::move(*failure)};
  }
  out.Append(people);
  if (views) {
    for (auto& work : view_work_) out.Append(work->batch);
  }
  return std::nullopt;
}

void BatchPipeline::FlushStored() {
  for (auto& part : parts_) part->flushing_events = 0;
  flushing_batches_ = 0;
}

void BatchPipeline::ReleaseBuffers() {
  for (Stage& stage : stages_) {
    if (&stage == pending_) continue;
    std::vector<Slot>().swap(stage.slots);
    std::vector<uint32_t>().swap(stage.part_of);
    std::vector<HashedId>().swap(stage.own_persons);
    std::vector<EventKeys>().swap(stage.own_keys);
    stage.people.Release();
    for (PartWork& work : stage.parts) {
      std::vector<uint32_t>().swap(work.events);
      std::vector<HashedId>().swap(work.ids);
      std::vector<Effect>().swap(work.effects);
      std::vector<SwabRecord>().swap(work.swabs);
      std::vector<std::string_view>().swap(work.dirty);
      std::vector<std::shared_ptr<const PersonRecord>>().swap(work.befores);
      work.batch.Release();
    }
  }
  for (auto& work : view_work_) work->batch.Release();
  for (ViewsDb::Batch& batch : flush_parts_) batch.Release();
  for (auto& part : parts_) {
    std::vector<PersonKey>().swap(part->unwritten);
    for (PersonFold* fold : part->folds) fold->ReleaseBuffers();
  }
}

}  // namespace caseledger::projections
