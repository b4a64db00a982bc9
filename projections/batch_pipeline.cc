#include "projections/batch_pipeline.h"

#include <algorithm>
#include <chrono>
#include <limits>

namespace caseledger::projections {
namespace {

constexpr std::string_view kPeoplePrefix = "people/";
constexpr std::string_view kPersonStreamPrefix = "person-";

std::string_view PersonOf(const domain::Envelope& env) {
  std::string_view stream(env.stream);
  return stream.starts_with(kPersonStreamPrefix) ? stream.substr(kPersonStreamPrefix.size())
                                                 : std::string_view();
}

// Below this many events a batch (following the log live: a few events) is applied on the
// runner's thread alone: waking the pool would cost more than it saves.
constexpr size_t kParallelFrom = 512;

void Keep(std::optional<BatchPipeline::Failure>& first, size_t index, std::string why) {
  if (!first || index < first->index) first = BatchPipeline::Failure{index, std::move(why)};
}

}  // namespace

size_t BatchPipeline::PartitionOf(std::string_view person_id, size_t partitions) {
  return partitions <= 1 ? 0 : SwabIdHash(person_id) % partitions;
}

BatchPipeline::BatchPipeline(std::vector<std::unique_ptr<View>>& views,
                             std::shared_ptr<const domain::RuleBook> rules, size_t partitions,
                             size_t threads, std::string path)
    : views_(views), path_(std::move(path)), pool_(std::max<size_t>(threads, 1)) {
  for (size_t p = 0; p < std::max<size_t>(partitions, 1); ++p) parts_.push_back(std::make_unique<Part>(rules));
  for (size_t v = 0; v < views_.size(); ++v) view_work_.push_back(std::make_unique<ViewWork>());
}

void BatchPipeline::Fold(Part& part, const DecodedBatch& batch, const ViewsDb& db) {
  PersonDirectory& dir = part.directory;
  dir.BeginBatch();
  // The records of the partition's people not cached, in one MultiGet (a person in
  // neither the cache nor the database is not registered yet).
  part.missing.clear();
  std::string_view previous;
  for (uint32_t i : part.events) {
    std::string_view person = persons_[i];
    if (person == previous || person.empty()) continue;
    previous = person;
    if (dir.Touch(person) == nullptr) part.missing.emplace_back(kPeoplePrefix).append(person);
  }
  if (!part.missing.empty()) {
    std::sort(part.missing.begin(), part.missing.end());
    part.missing.erase(std::unique(part.missing.begin(), part.missing.end()), part.missing.end());
    auto values = db.MultiGet(part.missing);
    if (!values) {
      Keep(part.failure, 0, "reading person records: " + values.error().message);
      return;
    }
    for (size_t k = 0; k < part.missing.size(); ++k) {
      if (!(*values)[k]) continue;
      std::string_view id = std::string_view(part.missing[k]).substr(kPeoplePrefix.size());
      if (!dir.Load(id, *(*values)[k])) {
        Keep(part.failure, 0, "views entry " + part.missing[k] + " does not decode; delete " + path_ + " to rebuild");
        return;
      }
    }
  }
  for (uint32_t i : part.events) {
    const domain::Envelope& env = batch.envelopes[i];
    std::string_view person = persons_[i];
    Slot& slot = slots_[i];
    slot.begin = static_cast<uint32_t>(part.effects.size());
    try {
      if (dir.Step(LogEvent{env, batch.events[i], person}, slot.before, part.effects)) {
        if (part.dirty.empty() || part.dirty.back() != person) part.dirty.push_back(person);
      }
    } catch (const std::exception& ex) {
      Keep(part.failure, i, env.type + ": " + ex.what());
      return;
    }
    slot.end = static_cast<uint32_t>(part.effects.size());
  }
  std::sort(part.dirty.begin(), part.dirty.end());
  part.dirty.erase(std::unique(part.dirty.begin(), part.dirty.end()), part.dirty.end());
  std::string key;
  for (std::string_view person : part.dirty) {
    key.assign(kPeoplePrefix).append(person);
    part.batch.Put(key, PersonDirectory::Encode(*dir.Find(person)));
  }
}

void BatchPipeline::ApplyView(size_t v, const DecodedBatch& batch, size_t count) {
  View& view = *views_[v];
  ViewWork& work = *view_work_[v];
  const auto started = std::chrono::steady_clock::now();
  struct Timer {
    ViewWork& work;
    std::chrono::steady_clock::time_point started;
    ~Timer() { work.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(); }
  } timer{work, started};
  PrefixedSink sink(work.batch);
  sink.SetPrefix(view.name());
  size_t i = 0;
  try {
    for (; i < count; ++i) {
      const Slot& slot = slots_[i];
      const Part& part = *parts_[part_of_[i]];
      std::span<const Effect> effects(part.effects.data() + slot.begin, slot.end - slot.begin);
      view.Apply(LogEvent{batch.envelopes[i], batch.events[i], persons_[i], effects},
                 slot.before.get(), sink);
    }
  } catch (const std::exception& ex) {
    Keep(work.failure, i, batch.envelopes[i].type + ": " + ex.what());
    return;
  }
  if (count < batch.envelopes.size()) return;  // a partition failed: nothing is written
  try {
    view.Persist(sink);
  } catch (const std::exception& ex) {
    Keep(work.failure, count - 1, std::string("persisting the views: ") + ex.what());
  }
}

std::optional<BatchPipeline::Failure> BatchPipeline::Apply(const DecodedBatch& batch, const ViewsDb& db,
                                                          ViewsDb::Batch& out) {
  const size_t n = batch.envelopes.size();
  slots_.assign(n, Slot{});
  part_of_.resize(n);
  persons_.resize(n);
  for (auto& part : parts_) {
    part->events.clear();
    part->effects.clear();
    part->dirty.clear();
    part->batch.Clear();
    part->failure.reset();
  }
  for (size_t i = 0; i < n; ++i) {
    std::string_view person = persons_[i] = PersonOf(batch.envelopes[i]);
    part_of_[i] = static_cast<uint32_t>(PartitionOf(person, parts_.size()));
    if (!person.empty()) parts_[part_of_[i]]->events.push_back(static_cast<uint32_t>(i));
  }
  auto run = [&](size_t tasks, const std::function<void(size_t)>& task) {
    if (n >= kParallelFrom) return pool_.Run(tasks, task);
    for (size_t t = 0; t < tasks; ++t) task(t);
  };
  run(parts_.size(), [&](size_t p) {
    if (!parts_[p]->events.empty()) Fold(*parts_[p], batch, db);
  });
  std::optional<Failure> failure;
  for (auto& part : parts_) {
    if (part->failure) Keep(failure, part->failure->index, part->failure->why);
  }
  // The views apply what precedes the first event a partition could not fold: a view
  // failing before it is what the sequential runner would have reported.
  const size_t count = failure ? failure->index : n;
  for (auto& work : view_work_) {
    work->batch.Clear();
    work->failure.reset();
  }
  // Longest first (by the last batch): with more views than threads, the longest view
  // (the GPs') started last would finish alone.
  view_order_.resize(views_.size());
  for (size_t v = 0; v < views_.size(); ++v) view_order_[v] = v;
  std::stable_sort(view_order_.begin(), view_order_.end(),
                   [&](size_t a, size_t b) { return view_work_[a]->seconds > view_work_[b]->seconds; });
  run(views_.size(), [&](size_t k) { ApplyView(view_order_[k], batch, count); });
  for (auto& work : view_work_) {
    if (work->failure) Keep(failure, work->failure->index, work->failure->why);
  }
  if (failure) return failure;
  for (auto& part : parts_) out.Append(part->batch);
  for (auto& work : view_work_) out.Append(work->batch);
  slots_.clear();  // the records before each event: released now, not at the next batch
  return std::nullopt;
}

void BatchPipeline::Evict(size_t budget) {
  if (budget == 0) return;
  // Shares that add up to the budget; a partition with none forgets everything (every
  // record was written by the batch before).
  const size_t n = parts_.size();
  for (size_t p = 0; p < n; ++p) {
    const size_t share = budget / n + (p < budget % n ? 1 : 0);
    if (share == 0) {
      parts_[p]->directory.Clear();
    } else {
      parts_[p]->directory.Evict(share);
    }
  }
}

const PersonRecord* BatchPipeline::Find(std::string_view person_id) const {
  return parts_[PartitionOf(person_id, parts_.size())]->directory.Find(person_id);
}

size_t BatchPipeline::CachedPeople() const {
  size_t n = 0;
  for (const auto& part : parts_) n += part->directory.size();
  return n;
}

void BatchPipeline::Clear() {
  for (auto& part : parts_) part->directory.Clear();
}

}  // namespace caseledger::projections
