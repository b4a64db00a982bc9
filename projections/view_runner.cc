#include "projections/view_runner_impl.h"

#include "projections/batch_pipeline.h"
#include "projections/log_prefetch.h"
#include "projections/person_entry.h"
#include "projections/projections_logger.h"
#include "projections/views_db.h"
#include "projections/views_layout.h"
#include "projections/views_recovery.h"
#include "eventstore/disk_space.h"

#include <pthread.h>
#include <charconv>
#include <cstdio>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>
#include <algorithm>

namespace caseledger::projections {
namespace {

using eventstore::StoreError;
using eventstore::StoreErrorCode;
using eventstore::StoreResult;

using layout::kCheckpointKey;
using layout::kPeoplePrefix;
using layout::kPersonStreamPrefix;
using layout::kRegisteredKey;
using layout::kStartsPrefix;

// A view's entries in the views database, under "<view>/" (View::Attach).
class DbEntries final : public StoredEntries {
 public:
  DbEntries(std::shared_ptr<ViewsDb> db, std::string prefix) : db_(std::move(db)), prefix_(std::move(prefix)) {}
  std::shared_ptr<const Pinned> Pin() const override { return std::make_shared<PinnedDb>(db_, prefix_); }

 private:
  class PinnedDb final : public Pinned {
   public:
    PinnedDb(std::shared_ptr<ViewsDb> db, const std::string& prefix)
        : db_(std::move(db)), snapshot_(db_->Pin()), prefix_(prefix) {}
    StoreResult<void> Scan(std::string_view prefix,
                           const std::function<void(std::string_view, std::string_view)>& visit) const override {
      const std::string full = prefix_ + std::string(prefix);
      return db_->Scan(full, snapshot_.get(), [&](std::string_view key, std::string_view value) {
        visit(key.substr(prefix_.size()), value);
      });
    }

   private:
    std::shared_ptr<ViewsDb> db_;  // outlives the snapshot (declared first)
    std::shared_ptr<const rocksdb::Snapshot> snapshot_;
    std::string prefix_;
  };
  std::shared_ptr<ViewsDb> db_;
  std::string prefix_;
};

}  // namespace

StoreResult<void> ViewRunner::Impl::Load() {
  auto recovered = ViewsRecovery(*db, views, {store.CommittedPosition(), options.remote_log, options.path, created}).Run();
  if (!recovered) return recovered.error();
  meta_unwritten = recovered->meta_unwritten;
  if (recovered->reset) {
    directory.Clear();
    if (pipeline) pipeline->Clear();
  }
  registered.store(recovered->registered);
  for (auto& v : views) v->Publish(recovered->checkpoint);
  position.store(recovered->checkpoint, std::memory_order_release);
  stored_position.store(recovered->checkpoint, std::memory_order_relaxed);
  return {};
}

void ViewRunner::Impl::Fail(uint64_t at, std::string why) {
  ProjectionsLog()->error("views stopped at position {}: {}", at, why);
  {
    std::lock_guard lock(mu);
    failure = "position " + std::to_string(at) + ": " + why;
    failed_at = at;
  }
  failed.store(true);
  metrics.failures.store(1);
  cv.notify_all();
}

StoreResult<bool> ViewRunner::Impl::FetchPeople(const DecodedBatch& decoded) {
  directory.BeginBatch();
  missing.clear();
  records.assign(decoded.envelopes.size(), nullptr);
  for (size_t i = 0; i < decoded.envelopes.size(); ++i) {
    std::string_view stream(decoded.envelopes[i].stream);
    if (!stream.starts_with(kPersonStreamPrefix)) continue;
    std::string_view person = stream.substr(kPersonStreamPrefix.size());
    if (person.empty() || (records[i] = directory.Touch(person)) != nullptr) continue;
    // Consecutive events of one person (an append of several) are looked up once.
    if (i > 0 && decoded.envelopes[i - 1].stream == decoded.envelopes[i].stream) continue;
    missing.emplace_back(kPeoplePrefix).append(person);
  }
  if (missing.empty()) return true;
  std::sort(missing.begin(), missing.end());
  missing.erase(std::unique(missing.begin(), missing.end()), missing.end());
  auto values = db->MultiGet(missing);
  if (!values) {
    Fail(decoded.envelopes.front().position, "reading person records: " + values.error().message);
    return values.error();
  }
  for (size_t i = 0; i < missing.size(); ++i) {
    if (!(*values)[i]) continue;  // not registered yet (or registered in this batch)
    std::string_view id = std::string_view(missing[i]).substr(kPeoplePrefix.size());
    if (!LoadPersonEntry(id, *(*values)[i], directory, fold_list)) {
      Fail(decoded.envelopes.front().position,
           "views entry " + missing[i] + " does not decode; delete " + options.path + " to rebuild");
      return false;
    }
  }
  return true;
}

std::optional<std::pair<uint64_t, std::string>> ViewRunner::Impl::Invalid(const DecodedBatch& decoded,
                                                                          uint64_t expected) const {
  // Checked by the reader (DecodedBatch::in_order): nothing to look at here.
  if (decoded.in_order == decoded.envelopes.size() && decoded.events.size() == decoded.envelopes.size() &&
      (decoded.envelopes.empty() || decoded.envelopes.front().position == expected)) {
    return std::nullopt;
  }
  for (size_t i = 0; i < decoded.envelopes.size(); ++i, ++expected) {
    const domain::Envelope& env = decoded.envelopes[i];
    if (env.position != expected) {
      return std::make_pair(expected, "the log returned position " + std::to_string(env.position));
    }
    // Views never need personal data: it is not even decoded (it may be encrypted).
    if (i >= decoded.events.size()) {
      return std::make_pair(env.position, env.type + " does not decode: " + decoded.decode_error);
    }
  }
  return std::nullopt;
}

bool ViewRunner::Impl::Validate(const DecodedBatch& decoded) {
  if (auto invalid = Invalid(decoded, position.load(std::memory_order_relaxed) + 1)) {
    Fail(invalid->first, std::move(invalid->second));
    return false;
  }
  return true;
}

StoreResult<bool> ViewRunner::Impl::ApplyBatch(const DecodedBatch& decoded) {
  auto started = std::chrono::steady_clock::now();
  if (decoded.envelopes.empty()) return true;
  if (!Validate(decoded)) return false;
  ViewsDb::Batch wb;
  if (pipeline) {
    if (auto failed = pipeline->Apply(decoded, *db, wb)) {
      Fail(decoded.envelopes[failed->index].position, failed->why);
      return false;
    }
  } else if (auto applied = ApplySequential(decoded, wb); !applied || !*applied) {
    return applied;
  }
  IndexBatch(decoded, wb);
  return Commit(decoded, wb, started);
}

void ViewRunner::Impl::IndexBatch(const DecodedBatch& decoded, ViewsDb::Batch& out) {
  // A sorted run of its own, appended to `out` (ViewsDb::Batch::Sort says why).
  IndexRun(decoded);
  out.Append(index_batch);
}

void ViewRunner::Impl::IndexRun(const DecodedBatch& decoded) {
  ViewsDb::Batch& wb = index_batch;
  wb.Clear();
  uint64_t added = 0;
  std::string key;
  for (size_t i = 0; i < decoded.envelopes.size(); ++i) {
    std::string_view stream(decoded.envelopes[i].stream);
    if (!stream.starts_with(kPersonStreamPrefix)) continue;
    const domain::Event& event = decoded.events[i];
    const domain::Date* start = nullptr;
    if (std::holds_alternative<domain::PersonRegistered>(event)) {
      ++added;
    } else if (const auto* q = std::get_if<domain::QuarantineOrdered>(&event)) {
      start = &q->start;
    } else if (const auto* iso = std::get_if<domain::IsolationOrdered>(&event)) {
      start = &iso->start;
    }
    if (start == nullptr) continue;
    key.assign(kStartsPrefix).append(start->ToString()).append("/").append(stream.substr(kPersonStreamPrefix.size()));
    wb.Put(key, {});
  }
  if (added != 0) {
    // The count in memory runs ahead of the database only if this batch's write fails (or,
    // in a catch-up, its views: IndexRun runs beside them), and then the runner has stopped
    // (Fail): a reopen reads the stored count again.
    const uint64_t total = registered.fetch_add(added) + added;
    wb.Put(kRegisteredKey, std::to_string(total));
  }
  wb.Sort();
}

StoreResult<bool> ViewRunner::Impl::ApplySequential(const DecodedBatch& decoded, ViewsDb::Batch& wb) {
  if (auto fetched = FetchPeople(decoded); !fetched || !*fetched) return fetched;
  PrefixedSink sink(wb);
  const uint64_t last = decoded.envelopes.back().position;
  return FoldSequential(decoded, sink) && PersistViews(sink, last) && WritePeople(wb, last);
}

bool ViewRunner::Impl::FoldSequential(const DecodedBatch& decoded, PrefixedSink& sink) {
  const std::vector<domain::Envelope>& batch = decoded.envelopes;
  dirty_people.clear();
  dirty_people.reserve(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    const domain::Envelope& env = batch[i];
    const domain::Event* event = &decoded.events[i];
    std::string_view person;
    if (std::string_view(env.stream).starts_with(kPersonStreamPrefix)) {
      person = std::string_view(env.stream).substr(kPersonStreamPrefix.size());
    }
    try {
      effects.clear();
      // Null from FetchPeople: not registered before this batch (maybe within it).
      const PersonRecord* before = records[i] ? records[i] : directory.Find(person);
      LogEvent probe{env, *event, person};
      directory.Effects(probe, before, effects);
      // The views' person folds, before the views (as in the pipeline's partitions).
      uint32_t folded = 0;
      if (!folds.empty()) {
        const std::span<FoldState> states = before ? directory.FoldStates(person) : std::span<FoldState>();
        for (size_t k = 0; k < folds.size(); ++k) {
          if (folds[k].second->Apply(probe, before, states.empty() ? nullptr : &states[k])) folded |= 1u << k;
        }
        if (folded != 0) directory.MarkFoldsChanged(person, folded);
      }
      LogEvent e{env, *event, person, effects};
      size_t k = 0;
      for (size_t v = 0; v < views.size(); ++v) {
        const bool has_fold = k < folds.size() && folds[k].first == v;
        e.fold_changed = has_fold && ((folded >> k) & 1u) != 0;
        if (has_fold) ++k;
        sink.SetPrefix(views[v]->name());
        views[v]->Apply(e, before, sink);
      }
      // The folds' parts are written with the record (person_entry.h): a change of either
      // writes the entry.
      if (directory.Apply(e, before) || folded != 0) {
        const PersonRecord* record = before ? before : directory.Find(person);
        if (record != nullptr && (dirty_people.empty() || dirty_people.back().first != record)) {
          dirty_people.emplace_back(record, person);
        }
      }
    } catch (const std::exception& ex) {
      Fail(env.position, env.type + ": " + ex.what());
      return false;
    }
  }
  // Each person once, for the folds' Persist and WritePeople.
  auto by_record = [](const auto& a, const auto& b) { return std::less<>{}(a.first, b.first); };
  std::sort(dirty_people.begin(), dirty_people.end(), by_record);
  dirty_people.erase(std::unique(dirty_people.begin(), dirty_people.end(),
                                 [](const auto& a, const auto& b) { return a.first == b.first; }),
                     dirty_people.end());
  return true;
}

bool ViewRunner::Impl::PersistViews(PrefixedSink& sink, uint64_t last) {
  try {
    for (auto& v : views) {
      sink.SetPrefix(v->name());
      v->Persist(sink);
    }
    // Each person looked up once, for the folds' Persist and WritePeople.
    std::vector<std::string_view> changed;
    changed.reserve(dirty_people.size());
    for (const auto& [record, id] : dirty_people) changed.push_back(id);
    to_write.clear();
    directory.TakeToWrite(changed, to_write);
    for (size_t k = 0; k < folds.size(); ++k) {
      sink.SetPrefix(views[folds[k].first]->name());
      folds[k].second->Persist(sink, directory, to_write, k);
    }
  } catch (const std::exception& ex) {
    Fail(last, std::string("persisting the views: ") + ex.what());
    return false;
  }
  return true;
}

bool ViewRunner::Impl::WritePeople(ViewsDb::Batch& wb, uint64_t last) {
  std::string key;
  try {
    for (const PersonDirectory::ToWrite& entry : to_write) {
      key.assign(kPeoplePrefix).append(entry.id);
      wb.Put(key, EncodePersonEntry(*entry.record, entry.states, fold_list));
    }
  } catch (const std::exception& ex) {
    Fail(last, std::string("persisting the people: ") + ex.what());
    return false;
  }
  return true;
}

StoreResult<bool> ViewRunner::Impl::Commit(const DecodedBatch& decoded, ViewsDb::Batch& wb,
                                           std::chrono::steady_clock::time_point started) {
  const uint64_t last = decoded.envelopes.back().position;
  PutCheckpoint(wb, last);
  if (auto w = db->Write(wb, options.sync); !w) {
    // The working state is ahead of what is stored; only a reopen can realign them.
    Fail(last, w.error().message);
    return w.error();
  }
  Advance(decoded, started);
  return true;
}

StoreResult<bool> ViewRunner::Impl::Commit(uint64_t last, size_t events, ViewsDb::Batch& wb,
                                           std::chrono::steady_clock::time_point started) {
  PutCheckpoint(wb, last);
  if (auto w = db->Write(wb, options.sync); !w) {
    Fail(last, w.error().message);
    return w.error();
  }
  Written(last, events, started, false);
  return true;
}

void ViewRunner::Impl::PutCheckpoint(ViewsDb::Batch& wb, uint64_t last) {
  wb.Put(kCheckpointKey, std::to_string(last));
  // A failed write stops the runner (Fail): a reopen recovers the database again. The first
  // checkpoint of a database Open created completes it (ViewsDb::Create).
  if (meta_unwritten) {
    PutMeta(wb, views);
    wb.Completes();
  }
  meta_unwritten = false;
}

void ViewRunner::Impl::Advance(const DecodedBatch& decoded, std::chrono::steady_clock::time_point started) {
  SampleRecords(decoded);
  Written(decoded.envelopes.back().position, decoded.envelopes.size(), started, false);
}

void ViewRunner::Impl::Written(uint64_t last, size_t events, std::chrono::steady_clock::time_point started,
                               bool behind) {
  // Every changed record is in the batch just written: the cache may forget any of them,
  // but those of the batch applied after it when that one is not written yet (`behind`).
  if (pipeline) {
    pipeline->Evict(PersonCacheLimit(), behind);
  } else {
    directory.Evict(PersonCacheLimit());
  }
  NoteMemory();
  stored_position.store(last, std::memory_order_relaxed);
  if (!behind) Publish(last);
  ReportProgress(false);
  metrics.events_applied.fetch_add(events, std::memory_order_relaxed);
  metrics.batches_written.fetch_add(1, std::memory_order_relaxed);
  metrics.last_batch_micros.store(std::chrono::duration_cast<std::chrono::microseconds>(
                                      std::chrono::steady_clock::now() - started)
                                      .count(),
                                  std::memory_order_relaxed);
}

void ViewRunner::Impl::Publish(uint64_t last) {
  std::vector<ViewChange> changes;
  for (auto& v : views) {
    // Nobody to tell (rebuilds): the keys are not even gathered.
    if (!listeners.empty()) {
      for (std::string& k : v->ChangedKeys()) changes.push_back({std::string(v->name()), std::move(k), last});
    }
    v->Publish(last);
  }
  {
    std::lock_guard lock(mu);
    position.store(last, std::memory_order_release);
  }
  cv.notify_all();
  // Even with no change: a listener may wait for the position itself (min_position reads).
  for (auto& listener : listeners) {
    try {
      listener(changes);
    } catch (const std::exception& ex) {
      ProjectionsLog()->error("a views change listener failed: {}", ex.what());
    }
  }
}

StoreResult<std::unique_ptr<ViewRunner>> ViewRunner::Open(eventstore::LogReader& store,
                                                          std::vector<std::unique_ptr<View>> views,
                                                          RunnerOptions options) {
  std::set<std::string_view, std::less<>> names;
  for (const auto& v : views) {
    std::string_view n = v->name();
    if (n.empty() || n.find('/') != n.npos || n.find(',') != n.npos || n == "people" ||
        n == "meta" || n == "index" || !names.insert(n).second) {
      return StoreError(StoreErrorCode::kInvalidArgument, "bad or duplicate view name '" + std::string(n) + "'");
    }
  }
  if (options.max_batch == 0) options.max_batch = 1;
  std::unique_ptr<ViewRunner> runner(new ViewRunner());
  runner->impl_ = std::make_unique<Impl>(store, std::move(views), std::move(options), runner->position_);
  Impl& impl = *runner->impl_;
  if (impl.options.partitions > 0) {
    size_t threads = impl.options.threads != 0 ? impl.options.threads
                                               : std::max(1u, std::thread::hardware_concurrency());
    impl.pipeline = std::make_unique<BatchPipeline>(impl.views, impl.options.rules, impl.options.partitions,
                                                    threads, impl.options.path);
  }
  // One Create made that no checkpoint completed is worth nothing: created again below.
  ViewsDb::RemoveIfIncomplete(impl.options.path);
  // A database created here starts at position 0: when the first catch-up will read ahead
  // (CatchUp: more than a batch to apply), its reading starts now, beside RocksDB's
  // creation of the database (unsynced: ViewsDb::Create), in the catch-up's settings.
  std::error_code fresh_ec;
  const bool fresh = !std::filesystem::exists(impl.options.path, fresh_ec) ||
                     std::filesystem::is_empty(impl.options.path, fresh_ec);
  uint64_t target = store.CommittedPosition();
  if (impl.options.until != 0) target = std::min(target, impl.options.until);
  const bool from_scratch_ahead =
      fresh && !fresh_ec && impl.options.read_ahead && !impl.options.remote_log && target > impl.options.max_batch;
  // Its meta then goes with its first checkpoint (ViewsRecovery::Recovered::meta_unwritten).
  // Not when nothing is to be applied yet: such a database (an empty log) holds its meta
  // and checkpoint 0 at once, as verify's rebuild of an empty checkpoint compares them.
  impl.created = from_scratch_ahead;
  // Created in the background (ViewsDb::Create): a catch-up from scratch needs it only at
  // its first write (for a short rebuild, at its end). Its creation started before the
  // readers: it is mostly waits for its syncs (~50 ms on a busy disk), and a short rebuild's
  // end waited for it when its thread started after the readers had taken both cores
  // (docs/benchmarks.md, session 31).
  auto db = from_scratch_ahead ? ViewsDb::Create(impl.options.path, impl.options.db, ViewsDb::Settings::kCatchingUp)
                               : ViewsDb::Open(impl.options.path, impl.options.db, ViewsDb::Settings::kFollowing);
  if (!db) return db.error();
  if (from_scratch_ahead) {
    impl.early_reader = std::make_unique<LogPrefetcher>(store, 1, target, impl.options.max_batch,
                                                         impl.options.read_depth, impl.options.read_threads);
  }
  {
    // A catch-up's spill left by a crash (`path` + ".spill", people_spill.h), and the table
    // files its end held (".tables"): the views it served are started again from scratch
    // (no checkpoint was written meanwhile).
    std::error_code ec;
    std::filesystem::remove_all(impl.options.path + ".spill", ec);
    std::filesystem::remove_all(impl.options.path + ".tables", ec);
  }
  runner->impl_->db = std::move(*db);
  for (auto& v : runner->impl_->views) {
    v->Attach(std::make_shared<DbEntries>(runner->impl_->db, std::string(v->name()) + "/"));
  }
  if (impl.pipeline) {
    impl.pipeline->AttachFolds();
  } else {
    for (size_t v = 0; v < impl.views.size() && impl.folds.size() < 32; ++v) {
      for (PersonFold* fold : impl.views[v]->PersonFolds(1)) {
        impl.folds.emplace_back(v, fold);
        impl.fold_list.push_back(fold);
      }
    }
    impl.directory.SetFolds(impl.folds.size());
  }
  if (auto loaded = runner->impl_->Load(); !loaded) return loaded.error();
  return runner;
}

ViewRunner::~ViewRunner() { Stop(); }

StoreResult<uint64_t> ViewRunner::CatchUp() { return impl_->CatchUp(); }

void ViewRunner::Start() {
  if (impl_->follower.joinable()) return;
  impl_->stopping.store(false);
  impl_->following.store(true);
  impl_->follower = std::thread([this] {
    pthread_setname_np(pthread_self(), "cl-views");
    impl_->Follow();
  });
}

void ViewRunner::SetUnread(bool unread) { impl_->unread.store(unread); }

void ViewRunner::Stop() {
  if (!impl_ || !impl_->follower.joinable()) return;
  impl_->stopping.store(true);
  impl_->follower.join();
  impl_->following.store(false);
  impl_->stopping.store(false);  // CatchUp() on the caller's thread works again
  // Batches skip the WAL (views_db.cc): a stopped runner leaves its views whole on disk, so
  // that a verification or another process opening the directory sees what it applied.
  if (auto flushed = impl_->db->Flush(); !flushed) {
    ProjectionsLog()->warn("cannot flush the views after stopping: {}", flushed.error().message);
  }
}

bool ViewRunner::WaitForPosition(uint64_t position, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout, [&] {
    return Position() >= position || impl_->failed.load();
  }) && Position() >= position;
}

CatchUpProgress ViewRunner::Progress() const { return impl_->Progress(); }

std::string ViewRunner::paused() const {
  std::lock_guard lock(impl_->mu);
  return impl_->paused;
}

std::string ViewRunner::failure() const {
  std::lock_guard lock(impl_->mu);
  return impl_->failure;
}

uint64_t ViewRunner::failed_position() const {
  std::lock_guard lock(impl_->mu);
  return impl_->failed_at;
}

const RunnerMetrics& ViewRunner::metrics() const { return impl_->metrics; }

const View* ViewRunner::Find(std::string_view name) const {
  for (const auto& v : impl_->views) {
    if (v->name() == name) return v.get();
  }
  return nullptr;
}

size_t ViewRunner::CachedPeople() const {
  return impl_->pipeline ? impl_->pipeline->CachedPeople() : impl_->directory.size();
}

StoreResult<std::optional<PersonRecord>> ViewRunner::FindPerson(std::string_view person_id) const {
  const PersonRecord* cached =
      impl_->pipeline ? impl_->pipeline->Find(person_id) : impl_->directory.Find(person_id);
  if (cached) return std::optional<PersonRecord>(*cached);
  auto bytes = impl_->db->Get(std::string(kPeoplePrefix).append(person_id));
  if (!bytes) return bytes.error();
  if (!*bytes) return std::optional<PersonRecord>();
  PersonRecord r;
  const size_t parts = impl_->pipeline ? impl_->pipeline->folds() : impl_->fold_list.size();
  if (!DecodePersonRecord(**bytes, parts, r)) {
    return StoreError(StoreErrorCode::kCorruption, "views entry people/" + std::string(person_id) + " does not decode");
  }
  return std::optional<PersonRecord>(std::move(r));
}

StoreResult<void> ViewRunner::ForEachMeasureStart(domain::Date from, std::optional<domain::Date> to,
                                                 const std::function<void(std::string_view)>& visit) const {
  const std::string low = std::string(kStartsPrefix).append(from.ToString());
  // Past every day: the prefix with its '/' incremented.
  const std::string high = to ? std::string(kStartsPrefix).append(to->ToString())
                              : std::string(kStartsPrefix.substr(0, kStartsPrefix.size() - 1)).append("0");
  if (to && !(from < *to)) return {};
  return impl_->db->ScanRange(low, high, [&](std::string_view key, std::string_view) {
    // "index/starts/YYYY-MM-DD/<person>"
    visit(key.substr(kStartsPrefix.size() + 11));
  });
}

uint64_t ViewRunner::RegisteredPeople() const { return impl_->registered.load(); }

void ViewRunner::OnChanges(std::function<void(const std::vector<ViewChange>&)> listener) {
  impl_->listeners.push_back(std::move(listener));
}

StoreResult<std::unique_ptr<ViewRunner>> Rebuild(eventstore::EventStore& store,
                                                 std::vector<std::unique_ptr<View>> views,
                                                 RebuildOptions options) {
  std::error_code ec;
  if (std::filesystem::exists(options.path, ec) && !std::filesystem::is_empty(options.path, ec)) {
    return StoreError(StoreErrorCode::kInvalidArgument,
                      "rebuild needs an empty directory; " + options.path + " is not");
  }
  const uint64_t until = options.until != 0 ? options.until : store.CommittedPosition();
  RunnerOptions ro;
  ro.path = options.path;
  ro.max_batch = options.max_batch;
  ro.until = until;
  ro.rules = std::move(options.rules);
  ro.read_ahead = options.read_ahead;
  ro.read_threads = options.read_threads;
  ro.person_cache = options.person_cache;
  ro.person_cache_bytes = options.person_cache_bytes;
  ro.db = options.db;
  ro.partitions = options.partitions;
  ro.threads = options.threads;
  ro.on_progress = std::move(options.on_progress);
  auto runner = ViewRunner::Open(store, std::move(views), std::move(ro));
  if (!runner) return runner.error();
  if (until == 0) return runner;  // an empty log
  auto reached = (*runner)->CatchUp();
  if (!reached) return reached.error();
  return runner;
}

}  // namespace caseledger::projections
