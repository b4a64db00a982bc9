#include "projections/batch_pipeline.h"

#include "projections/batch_pipeline_put.h"
#include "projections/person_entry.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <limits>
#include <span>
#include <type_traits>
#include <stdexcept>

namespace caseledger::projections {

using pipeline_internal::kParallelFrom;
using pipeline_internal::kPeoplePrefix;
using pipeline_internal::PutPartition;

namespace {

void Keep(std::optional<BatchPipeline::Failure>& first, size_t index, std::string why) {
  if (!first || index < first->index) first = BatchPipeline::Failure{index, std::move(why)};
}

constexpr size_t kSlotAhead = PersonDirectory::kSlotAhead;
constexpr size_t kRecordAhead = PersonDirectory::kRecordAhead;

}  // namespace

BatchPipeline::BatchPipeline(std::vector<std::unique_ptr<View>>& views,
                             std::shared_ptr<const domain::RuleBook> rules, size_t partitions,
                             size_t threads, std::string path)
    : views_(views), path_(std::move(path)), pool_(std::max<size_t>(threads, 1)) {
  for (size_t p = 0; p < std::max<size_t>(partitions, 1); ++p) parts_.push_back(std::make_unique<Part>(rules));
  for (size_t v = 0; v < views_.size(); ++v) view_work_.push_back(std::make_unique<ViewWork>());
  fold_of_view_.assign(views_.size(), -1);
  for (Stage& stage : stages_) {
    for (size_t p = 0; p < parts_.size(); ++p) stage.parts.emplace_back();
  }
}

void BatchPipeline::AttachFolds() {
  fold_views_.clear();
  fold_names_.clear();
  fold_of_view_.assign(views_.size(), -1);
  for (auto& part : parts_) part->folds.clear();
  for (size_t v = 0; v < views_.size(); ++v) {
    std::vector<PersonFold*> folds = views_[v]->PersonFolds(parts_.size());
    if (folds.empty()) continue;
    if (folds.size() != parts_.size() || fold_views_.size() >= 32) {
      throw std::logic_error("view " + std::string(views_[v]->name()) + ": bad person folds");
    }
    fold_of_view_[v] = static_cast<int>(fold_views_.size());
    fold_views_.push_back(v);
    fold_names_.push_back(views_[v]->name());
    for (size_t p = 0; p < parts_.size(); ++p) parts_[p]->folds.push_back(folds[p]);
  }
  for (auto& part : parts_) {
    part->evict_to.reset();
    part->directory.SetFolds(part->folds.size());
  }
}

const PersonRecord* BatchPipeline::Part::GpOnly(const std::string& gp_id) {
  auto it = gp_only.find(gp_id);
  if (it == gp_only.end()) {
    auto record = std::make_unique<PersonRecord>();
    record->gp_id = gp_id;
    it = gp_only.emplace(gp_id, std::move(record)).first;
  }
  return it->second.get();
}

std::optional<BatchPipeline::Failure> BatchPipeline::Stage::Folded() const {
  std::optional<Failure> first;
  for (const PartWork& work : parts) {
    if (work.failure) Keep(first, work.failure->index, work.failure->why);
  }
  return first;
}

void BatchPipeline::Prepare(Stage& stage, const DecodedBatch& batch) {
  const size_t n = batch.envelopes.size();
  stage.batch = &batch;
  stage.slots.assign(n, Slot{});
  stage.part_of.resize(n);
  if (batch.persons.size() == n) {
    stage.persons = batch.persons.data();
  } else {
    stage.own_persons.resize(n);
    for (size_t i = 0; i < n; ++i) stage.own_persons[i] = StreamPerson(batch.envelopes[i]);
    stage.persons = stage.own_persons.data();
  }
  if (batch.keys.size() != batch.events.size()) {  // a batch built otherwise
    stage.own_keys.resize(batch.events.size());
    for (size_t i = 0; i < batch.events.size(); ++i) stage.own_keys[i] = EventKeys::Of(batch.envelopes[i], batch.events[i]);
  }
  stage.keys = batch.keys.size() == batch.events.size() ? batch.keys.data() : stage.own_keys.data();
  for (PartWork& work : stage.parts) {
    work.events.clear();
    work.effects.clear();
    work.swabs.clear();
    work.dirty.clear();
    work.batch.Clear();
    work.failure.reset();
  }
  // Found and hashed by the batch's reader: this thread is the one the pool waits for.
  const size_t partitions = parts_.size();
  for (size_t i = 0; i < n; ++i) {
    const HashedId& person = stage.persons[i];
    stage.part_of[i] = static_cast<uint32_t>(PartitionOfHash(person.hash, partitions));
    if (!person.id.empty()) stage.parts[stage.part_of[i]].events.push_back(static_cast<uint32_t>(i));
  }
  stage.persist = !defer_;
  if (defer_) {
    deferred_events_ += n;
    ++deferred_batches_;
    for (size_t p = 0; p < parts_.size(); ++p) parts_[p]->unwritten_events += stage.parts[p].events.size();
  }
}

void BatchPipeline::FoldPart(size_t p, Stage& stage, const ViewsDb& db, Stage* done) {
  Part& part = *parts_[p];
  PartWork& work = stage.parts[p];
  // What the runner's thread left to the partition: the records its views read last time
  // (released before the fold: a record nobody holds any more is changed in place, not
  // copied), and its share of the cache (Evict).
  work.befores.clear();
  if (done != nullptr) done->parts[p].befores.clear();
  part.ApplyEvict();
  if (work.events.empty()) return;
  const DecodedBatch& batch = *stage.batch;
  PersonDirectory& dir = part.directory;
  dir.BeginBatch();
  // The records of the partition's people not cached, in one MultiGet (a person in
  // neither the cache nor the database is not registered yet). Not those whose stream
  // starts in this batch (an event of version 1: nothing of theirs can be stored before
  // it): most people a rebuild meets are new, and a key the database does not hold still
  // costs a bloom filter probe in the memtable and in every table file of level 0 and of
  // each level below (docs/benchmarks.md, 2026-12-04 afternoon).
  // The events are in log order, so a person whose stream starts in the batch is in
  // `fresh` before any later event of theirs is met. Sorting the ids of the fresh and of
  // the uncached events to tell them apart (most of a rebuild's later events are of people
  // registered in the same batch) was ~1,000 instructions per event at 1:100
  // (docs/benchmarks.md, session 18).
  part.missing.clear();
  part.fresh.clear();
  const size_t events = work.events.size();
  // Each event's person, hashed by the batch's reader, for every look-up below.
  work.ids.resize(events);
  for (size_t k = 0; k < events; ++k) work.ids[k] = stage.persons[work.events[k]];
  std::string_view previous;
  for (size_t k = 0; k < events; ++k) {
    if (k + kSlotAhead < events) dir.Prefetch(work.ids[k + kSlotAhead]);
    const uint32_t i = work.events[k];
    const HashedId& id = work.ids[k];
    std::string_view person = id.id;
    if (person == previous || person.empty()) continue;
    previous = person;
    if (batch.envelopes[i].version == 1) {
      part.fresh.lazy_emplace(id, [&](const auto& make) { make(person); });
    } else if (dir.Touch(id) == nullptr && !part.fresh.contains(id)) {
      part.missing.emplace_back(kPeoplePrefix).append(person);
    }
  }
  if (!part.missing.empty()) {
    std::sort(part.missing.begin(), part.missing.end());
    part.missing.erase(std::unique(part.missing.begin(), part.missing.end()), part.missing.end());
  }
  if (!part.missing.empty() && part.spill != nullptr) {
    // A catch-up from scratch: the people written so far are all in the spill.
    std::string& value = part.spilled;
    for (const std::string& key : part.missing) {
      std::string_view id = std::string_view(key).substr(kPeoplePrefix.size());
      auto found = part.spill->Get(id, value);
      if (!found) {
        Keep(work.failure, 0, "reading person records: " + found.error().message);
        return;
      }
      if (!*found) continue;
      ++part.spill_reads;
      if (!LoadPersonEntry(id, value, dir, part.folds)) {
        Keep(work.failure, 0, "person entry " + std::string(id) + " of the catch-up's spill does not decode");
        return;
      }
    }
  } else if (!part.missing.empty()) {
    auto values = db.MultiGet(part.missing);
    if (!values) {
      Keep(work.failure, 0, "reading person records: " + values.error().message);
      return;
    }
    for (size_t k = 0; k < part.missing.size(); ++k) {
      if (!(*values)[k]) continue;
      std::string_view id = std::string_view(part.missing[k]).substr(kPeoplePrefix.size());
      if (!LoadPersonEntry(id, *(*values)[k], dir, part.folds)) {
        Keep(work.failure, 0, "views entry " + part.missing[k] + " does not decode; delete " + path_ + " to rebuild");
        return;
      }
    }
  }
  for (size_t k = 0; k < events; ++k) {
    if (k + kRecordAhead < events) dir.PrefetchRecord(work.ids[k + kRecordAhead]);
    const uint32_t i = work.events[k];
    const domain::Envelope& env = batch.envelopes[i];
    std::string_view person = work.ids[k].id;
    Slot& slot = stage.slots[i];
    slot.begin = static_cast<uint32_t>(work.effects.size());
    try {
      LogEvent e{env, batch.events[i], person};
      e.keys = &stage.keys[i];
      // The folds and the views see the record before the event; the folds right away, the
      // views after the partition went on: a copy is kept for them only if one reads more
      // than the GP.
      std::shared_ptr<const PersonRecord> kept;
      bool changed = dir.Step(e, work.ids[k], kept, work.effects, [&](const PersonRecord* before, std::span<FoldState> states) {
        for (size_t k = 0; k < part.folds.size(); ++k) {
          if (part.folds[k]->Apply(e, before, states.empty() ? nullptr : &states[k])) slot.folded |= 1u << k;
        }
        if (before == nullptr) return false;
        if (const auto* result = std::get_if<domain::ResultRecorded>(&e.event)) {
          if (const SwabRecord* swab = before->FindSwabHash(e.SwabHash(result->swab_id))) {
            slot.swab = static_cast<uint32_t>(work.swabs.size());
            work.swabs.push_back(*swab);
            e.swab = &work.swabs.back();  // for ReadsRecord, here
          }
        }
        for (const auto& view : views_) {
          if (view->ReadsRecord(e, *before)) return true;
        }
        // Found with the person's entry; looked up again only when their GP changed.
        const PersonRecord*& gp_only = dir.StepGpOnly();
        if (gp_only == nullptr || gp_only->gp_id != before->gp_id) gp_only = part.GpOnly(before->gp_id);
        slot.record = gp_only;
        return false;
      });
      if (kept) {
        slot.record = kept.get();
        work.befores.push_back(std::move(kept));
      }
      // The folds' parts are written with the record (person_entry.h). Each person once
      // until written (PersonDirectory::MarkUnwritten).
      changed = changed || slot.folded != 0;
      if (changed && dir.MarkUnwritten(slot.folded)) work.dirty.push_back(person);
    } catch (const std::exception& ex) {
      Keep(work.failure, i, env.type + ": " + ex.what());
      return;
    }
    slot.end = static_cast<uint32_t>(work.effects.size());
  }
  if (!stage.persist) {
    // Written by Flush, with whatever later batches change of them meanwhile.
    for (std::string_view person : work.dirty) part.unwritten.emplace_back(person);
    return;
  }
  try {
    PutPartition(dir, part.folds, fold_names_, work.dirty, work.batch);
  } catch (const std::exception& ex) {
    Keep(work.failure, work.events.back(), ex.what());
  }
}

void BatchPipeline::ApplyView(size_t v, const Stage& stage, size_t count) {
  View& view = *views_[v];
  ViewWork& work = *view_work_[v];
  const DecodedBatch& batch = *stage.batch;
  const auto started = std::chrono::steady_clock::now();
  struct Timer {
    ViewWork& work;
    std::chrono::steady_clock::time_point started;
    ~Timer() { work.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(); }
  } timer{work, started};
  PrefixedSink sink(work.batch);
  sink.SetPrefix(view.name());
  const int fold = fold_of_view_[v];
  const uint32_t fold_bit = fold >= 0 ? 1u << fold : 0;
  // Each partition's effects and swabs, found once: the partitions are done with this
  // stage, so their lists stay put. Why: a std::deque's index per event and view (~20
  // instructions: a PartWork fills a node of its own) was ~100 an event of a catch-up
  // (docs/benchmarks.md, session 32).
  work.effects.clear();
  work.swabs.clear();
  for (const PartWork& part : stage.parts) {
    work.effects.push_back(part.effects.data());
    work.swabs.push_back(part.swabs.data());
  }
  const uint32_t* part_of = stage.part_of.data();
  // Only the events the view does something with (View::Interest): the call and the
  // checks of an event it ignores were ~30-50 instructions, most events for most views
  // (docs/benchmarks.md, session 32).
  const EventInterest interest = view.Interest();
  size_t i = 0;
  try {
    for (; i < count; ++i) {
      const Slot& slot = stage.slots[i];
      if (!interest.Wants(batch.events[i], slot.end != slot.begin)) continue;
      const uint32_t p = part_of[i];
      LogEvent e{batch.envelopes[i], batch.events[i], stage.persons[i].id,
                 std::span<const Effect>(work.effects[p] + slot.begin, slot.end - slot.begin)};
      e.keys = &stage.keys[i];
      e.fold_changed = (slot.folded & fold_bit) != 0;
      if (slot.swab != kNoSwab) e.swab = work.swabs[p] + slot.swab;
      view.Apply(e, slot.record, sink);
    }
  } catch (const std::exception& ex) {
    Keep(work.failure, i, batch.envelopes[i].type + ": " + ex.what());
    return;
  }
  if (count < batch.envelopes.size()) return;  // a partition failed: nothing is written
  if (!stage.persist) {
    work.batch.Sort();  // what the view wrote as it applied (a GP's notes dropped); the rest by Flush
    return;
  }
  try {
    view.Persist(sink);
  } catch (const std::exception& ex) {
    Keep(work.failure, count - 1, std::string("persisting the views: ") + ex.what());
    return;
  }
  // Here, on the pool's thread, rather than the whole batch on the runner's (Finish).
  work.batch.Sort();
}

void BatchPipeline::MergePeople(Stage& stage) {
  stage.people.Clear();
  stage.runs.clear();
  for (const PartWork& work : stage.parts) stage.runs.push_back(&work.batch);
  stage.people.Merge(stage.runs);
}

void BatchPipeline::Run(Stage* fold, const ViewsDb& db, Stage* views, size_t count,
                        const std::function<void()>& beside) {
  const size_t folds = fold ? parts_.size() : 0;
  const size_t nviews = views ? views_.size() : 0;
  // The partitions' records of the batch whose views run: merged into one sorted run on
  // the pool (the partitions' runs interleave: written one after the other, their inserts
  // into the memtable cost ~15 % more than in one order), not on the runner's thread.
  const size_t merges = views && !views->Folded() ? 1 : 0;
  const size_t besides = views && beside ? 1 : 0;
  if (views) {
    for (auto& work : view_work_) {
      work->batch.Clear();
      work->failure.reset();
    }
    // Longest first (by the last batch): with more views than threads, the longest view
    // (the GPs') started last would finish alone. Views before folds, for the same reason.
    view_order_.resize(views_.size());
    for (size_t v = 0; v < views_.size(); ++v) view_order_[v] = v;
    std::stable_sort(view_order_.begin(), view_order_.end(),
                     [&](size_t a, size_t b) { return view_work_[a]->seconds > view_work_[b]->seconds; });
  }
  // A fold with no views beside it: the other stage's views are done (unless it is the one
  // folded ahead), and its records before go too.
  Stage* done = nullptr;
  if (fold != nullptr && views == nullptr) {
    Stage* other = fold == &stages_[0] ? &stages_[1] : &stages_[0];
    if (other != pending_) done = other;
  }
  auto task = [&](size_t k) {
    if (k < nviews) {
      ApplyView(view_order_[k], *views, count);
    } else if (k < nviews + folds) {
      FoldPart(k - nviews, *fold, db, done);
    } else if (k < nviews + folds + merges) {
      MergePeople(*views);
    } else {
      beside();
    }
  };
  // Below this many events (following the log live: a few events) a batch is applied on
  // the runner's thread alone: waking the pool would cost more than it saves.
  const size_t events = std::max(fold ? fold->batch->envelopes.size() : 0, views ? views->batch->envelopes.size() : 0);
  const size_t tasks = nviews + folds + merges + besides;
  if (events >= kParallelFrom) return pool_.Run(tasks, task);
  for (size_t k = 0; k < tasks; ++k) task(k);
}

std::optional<BatchPipeline::Failure> BatchPipeline::Finish(Stage& stage, ViewsDb::Batch& out) {
  std::optional<Failure> failure = stage.Folded();
  for (auto& work : view_work_) {
    if (work->failure) Keep(failure, work->failure->index, work->failure->why);
  }
  if (!failure) {
    // Sorted runs, one after the other (their bytes copied), each under a prefix of its
    // own: the memtable's inserts (one hint per prefix: views_db.cc) go in key order.
    out.Append(stage.people);
    for (auto& work : view_work_) out.Append(work->batch);
  }
  // The records before the events are released by the partitions (PartWork::befores).
  stage.slots.clear();
  stage.batch = nullptr;
  return failure;
}

std::optional<BatchPipeline::Failure> BatchPipeline::Apply(const DecodedBatch& batch, const ViewsDb& db,
                                                          ViewsDb::Batch& out) {
  Stage& stage = stages_[0];
  Prepare(stage, batch);
  Run(&stage, db, nullptr, 0);
  // The views apply what precedes the first event a partition could not fold: a view
  // failing before it is what the sequential runner would have reported.
  const std::optional<Failure> folded = stage.Folded();
  Run(nullptr, db, &stage, folded ? folded->index : batch.envelopes.size());
  return Finish(stage, out);
}

void BatchPipeline::Fold(const DecodedBatch& batch, const ViewsDb& db) {
  Stage& stage = pending_ == &stages_[0] ? stages_[1] : stages_[0];
  Prepare(stage, batch);
  Run(&stage, db, nullptr, 0);
  pending_ = &stage;
}

bool BatchPipeline::FoldFailed() const { return pending_ != nullptr && pending_->Folded().has_value(); }

std::optional<BatchPipeline::Failure> BatchPipeline::Step(const DecodedBatch* next, const ViewsDb& db,
                                                         ViewsDb::Batch& out, const std::function<void()>& beside) {
  Stage* applied = pending_;
  if (applied == nullptr) return std::nullopt;
  const std::optional<Failure> folded = applied->Folded();
  Stage* folding = nullptr;
  if (next != nullptr && !folded) {
    folding = applied == &stages_[0] ? &stages_[1] : &stages_[0];
    Prepare(*folding, *next);
  }
  Run(folding, db, applied, folded ? folded->index : applied->batch->envelopes.size(), beside);
  pending_ = folding;
  applied_ = applied;
  return Finish(*applied, out);
}

}  // namespace caseledger::projections
