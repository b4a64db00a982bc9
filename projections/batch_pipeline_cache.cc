// BatchPipeline's person caches: their bound (Evict, applied by each partition's next task
// on the pool) and what the runner reads of them between batches.
#include "projections/batch_pipeline.h"

#include "projections/memory_estimate.h"

#include <algorithm>

namespace caseledger::projections {

void BatchPipeline::Evict(size_t budget, bool applied_unwritten) {
  if (budget == 0) return;
  // Shares that add up to the budget; a partition with none forgets everything (every
  // record was written by the batch before). But a batch folded ahead is not written yet:
  // its records are the most recently stamped, and a directory keeps at least the most
  // recent 7/8 of what it is allowed, so allowing twice the partition's events of that
  // batch keeps every one of them (the cache then exceeds its share by that batch at most).
  // The same for the two newest batches when the one applied last is not written yet.
  const size_t n = parts_.size();
  for (size_t p = 0; p < n; ++p) {
    size_t ahead = pending_ ? pending_->parts[p].events.size() : 0;
    if (applied_unwritten && applied_ != nullptr) ahead += applied_->parts[p].events.size();
    // Deferred: every record changed since the last Flush, and since the one before while
    // that Flush's batch is not stored (FlushStored).
    ahead += parts_[p]->unwritten_events + parts_[p]->flushing_events;
    const size_t share = std::max(budget / n + (p < budget % n ? 1 : 0), 2 * ahead);
    parts_[p]->ApplyEvict();  // one not applied yet first, as if at once
    parts_[p]->evict_to = share;
  }
}

void BatchPipeline::Part::ApplyEvict() {
  if (!evict_to) return;
  if (*evict_to == 0) {
    directory.Clear();
  } else {
    directory.Evict(*evict_to);
  }
  evict_to.reset();
}

void BatchPipeline::ApplyEvictions() const {
  for (const auto& part : parts_) part->ApplyEvict();
}

const PersonRecord* BatchPipeline::Find(std::string_view person_id) const {
  ApplyEvictions();
  return parts_[PartitionOf(person_id, parts_.size())]->directory.Find(person_id);
}

size_t BatchPipeline::CachedBytes(std::string_view person_id) const {
  ApplyEvictions();
  const Part& part = *parts_[PartitionOf(person_id, parts_.size())];
  return projections::CachedBytes(part.directory, part.folds, person_id);
}

size_t BatchPipeline::CachedPeople() const {
  ApplyEvictions();
  size_t n = 0;
  for (const auto& part : parts_) n += part->directory.size();
  return n;
}

void BatchPipeline::Clear() {
  for (auto& part : parts_) {
    part->evict_to.reset();
    part->directory.Clear();
  }
}

}  // namespace caseledger::projections
