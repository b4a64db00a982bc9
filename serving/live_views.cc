#include "serving/live_views.h"

#include "projections/views_pointer.h"
#include "serving/memory_budget.h"
#include "replay/rules_log.h"
#include "serving/serving_logger.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

namespace caseledger::serving {
namespace {

using eventstore::StoreError;
using eventstore::StoreErrorCode;
using eventstore::StoreResult;
namespace fs = std::filesystem;

// A rebuild switches in once it is this close to the committed position; the last events
// are applied synchronously just before the switch.
constexpr uint64_t kSwitchLag = 4096;
// How long a retired runner may stay held by readers before it is left to the next start.
constexpr auto kRetireWait = std::chrono::seconds(10);

std::atomic<uint64_t> next_live_views_id{1};  // Impl::id, never reused

// Starts the runner's follower on a thread of lower priority: the follower inherits the
// nice value of the thread that creates it (Linux: nice is per thread).
void StartWithNice(projections::ViewRunner& runner, int nice) {
  if (nice == 0) {
    runner.Start();
    return;
  }
  std::thread starter([&] {
    (void)setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), nice);
    runner.Start();
  });
  starter.join();
}

}  // namespace

class LiveViews::Impl {
 public:
  Impl(eventstore::EventStore& s, LiveViewsOptions o) : store(s), options(std::move(o)) {}

  // The views in `dir` built with `book` (the rules up to `rules_position`), opened and not
  // yet caught up nor started.
  // `on_progress` (may be null) is told the catch-up's progress besides the log line.
  StoreResult<std::shared_ptr<ServingViews>> OpenViews(
      const std::string& dir, std::shared_ptr<const domain::RuleBook> book, uint64_t rules_position,
      std::function<void(const projections::CatchUpProgress&)> on_progress = nullptr) {
    projections::RunnerOptions ro;
    ro.path = options.data_dir + "/" + dir;
    ro.max_batch = options.max_batch;
    ro.rules = book;
    ro.poll = options.poll;
    ro.live_interval = options.live_interval;
    ro.min_free_bytes = options.min_free_bytes;
    ro.read_ahead = true;  // a start from scratch reads the log ahead of the views
    const MemoryBudget budget = SplitMemoryBudget(options.memory_budget);
    ro.person_cache_bytes = budget.person_records;
    ro.records_give_way_to_tables = true;
    ro.other_tables = [&store = store] { return static_cast<size_t>(store.Memory().table_readers); };
    ro.db.block_cache_bytes = budget.views_block_cache;
    ro.db.write_buffer_bytes = budget.views_write_buffer;
    ro.db.catch_up_write_buffer_bytes = budget.views_catch_up_write_buffer;
    // A long catch-up (a start from scratch, a rebuild under new rules) says where it is.
    ro.progress_every = std::chrono::seconds(5);
    ro.on_progress = [dir, on_progress = std::move(on_progress)](const projections::CatchUpProgress& p) {
      ServingLog()->info("catching up the views in {}/: {}", dir, projections::ProgressLine(p));
      if (on_progress) on_progress(p);
    };
    eventstore::LogReader* log = &store;
    if (options.follow != nullptr) {
      log = options.follow;
      ro.remote_log = true;  // its checkpoint is a position of the primary's log
      ro.sync = true;        // the feed acknowledges to JetStream what the views applied
    }
    projections::ViewSet set = projections::MakeViewSet({options.reference, book, {}});
    auto runner = projections::ViewRunner::Open(*log, std::move(set.views), std::move(ro));
    if (!runner) return runner.error();
    auto serving = std::make_shared<ServingViews>();
    serving->runner = std::move(*runner);
    serving->rules = std::move(book);
    serving->rules_position = rules_position;
    serving->dir = dir;
    serving->views = set.typed;
    return serving;
  }

  // The log the views follow: the store, or a replica's feed.
  const eventstore::LogReader& Log() const { return options.follow ? *options.follow : store; }
  void Worker();
  // One rebuild for the book up to `target`; returns when switched, failed or cancelled.
  void Rebuild(uint64_t target);
  void Retire(std::shared_ptr<const ServingViews> old);
  bool Cancelled(uint64_t target) {
    std::lock_guard lock(mu);
    return stopping || requested != target;
  }
  void SetError(std::string why) {
    ServingLog()->error("views rebuild failed: {}", why);
    std::lock_guard lock(mu);
    status.error = std::move(why);
  }

  eventstore::EventStore& store;
  LiveViewsOptions options;

  mutable std::mutex mu;
  mutable std::condition_variable cv;
  // Held while the live views are held still (WithViewsHeld) and while they are switched or
  // stopped: a switch never stops a runner a what-if is reading, nor the reverse.
  std::mutex hold_mu;
  // Read by Current() without a lock (an atomic pointer swap, RCU-style: a reader holds
  // what it loaded for one answer); written only under mu.
  std::atomic<std::shared_ptr<const ServingViews>> current;
  // Moved after every store of `current` after Open (Rules(): a thread's kept book is
  // good while it has not moved). `id` tells whose a thread's kept book is.
  std::atomic<uint64_t> generation{0};
  const uint64_t id = next_live_views_id.fetch_add(1, std::memory_order_relaxed);
  uint64_t requested = 0;                       // rules position wanted live; guarded by mu
  bool stopping = false;                        // guarded by mu
  AdoptionStatus status;                        // guarded by mu
  std::shared_ptr<projections::ViewRunner> rebuilding;  // the rebuild's runner; guarded by mu
  std::vector<std::shared_ptr<const ServingViews>> retired;  // held by readers too long
  std::thread worker;
};

void LiveViews::Impl::Worker() {
  for (;;) {
    uint64_t target = 0;
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return stopping || requested != current.load()->rules_position; });
      if (stopping) return;
      target = requested;
      status.rebuilding = true;
      status.target_rules_position = target;
      status.error.clear();
    }
    Rebuild(target);
    {
      std::lock_guard lock(mu);
      // A failed rebuild is not retried until a new adoption (or a restart) asks again.
      if (requested == target && current.load()->rules_position != target) requested = current.load()->rules_position;
      status.rebuilding = requested != current.load()->rules_position;
    }
    cv.notify_all();
  }
}

void LiveViews::Impl::Rebuild(uint64_t target) {
  const auto started = std::chrono::steady_clock::now();
  auto rules = replay::RulesLog::Read(store, target);
  if (!rules) return SetError(rules.error().message);
  if (rules->last_position() != target) {
    return SetError("no RulesAdopted at position " + std::to_string(target));
  }
  auto book = rules->Book();
  const std::string dir = projections::ViewsDirFor(target);
  std::error_code ec;
  fs::remove_all(options.data_dir + "/" + dir, ec);  // a rebuild a crash interrupted
  auto opened = OpenViews(dir, book, target);
  if (!opened) return SetError(opened.error().message);
  projections::ViewRunner& r = *(*opened)->runner;
  {
    std::lock_guard lock(mu);
    rebuilding = (*opened)->runner;
  }
  struct Forget {
    Impl& s;
    ~Forget() {
      std::lock_guard lock(s.mu);
      s.rebuilding.reset();
    }
  } forget{*this};
  ServingLog()->info("rebuilding the views into {} under the rules adopted up to position {}", dir, target);
  // Read by nobody until the switch: written every few batches, published when caught up.
  r.SetUnread(true);
  StartWithNice(r, options.rebuild_nice);
  for (;;) {
    if (Cancelled(target)) {
      r.Stop();
      ServingLog()->info("views rebuild into {} cancelled", dir);
      return;
    }
    if (!r.failure().empty()) return SetError("rebuild stopped: " + r.failure());
    if (r.Position() + kSwitchLag >= Log().CommittedPosition()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // The follower ran at low priority; restart it at ours, with the change listener (not
  // before: the old views answer until the switch, so their changes are the ones to announce).
  r.Stop();
  r.SetUnread(false);
  if (auto caught = r.CatchUp(); !caught) return SetError(caught.error().message);
  if (options.before_switch && !options.before_switch()) {
    ServingLog()->warn("views rebuild into {} abandoned before the switch (test seam)", dir);
    return;
  }
  if (options.on_changes) r.OnChanges(options.on_changes);
  r.Start();
  if (auto w = projections::WriteViewsPointer(options.data_dir, {dir, target}); !w) {
    r.Stop();
    return SetError("cannot switch the views pointer: " + w.error().message);
  }
  std::shared_ptr<const ServingViews> serving = std::move(*opened);
  std::shared_ptr<const ServingViews> old;
  {
    std::lock_guard hold(hold_mu);
    std::lock_guard lock(mu);
    old = current.exchange(std::move(serving));
    generation.fetch_add(1, std::memory_order_release);
    ++status.switches;
  }
  cv.notify_all();
  // Every figure may have changed: one announcement for live dashboards.
  if (options.on_changes) options.on_changes({{"rules", std::to_string(target), r.Position()}});
  ServingLog()->info("views rebuilt under the rules up to position {} and switched in ({} ms)", target,
                    std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started)
                        .count());
  Retire(std::move(old));
}

void LiveViews::Impl::Retire(std::shared_ptr<const ServingViews> old) {
  {
    std::lock_guard hold(hold_mu);
    old->runner->Stop();
  }
  const std::string path = options.data_dir + "/" + old->dir;
  const auto deadline = std::chrono::steady_clock::now() + kRetireWait;
  // Readers copy `current` and drop it after one answer: wait for them.
  while (old.use_count() > 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (old.use_count() > 1) {
    std::lock_guard lock(mu);
    retired.push_back(std::move(old));  // its directory is removed at the next start
    return;
  }
  old.reset();  // closes its database
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) ServingLog()->warn("cannot remove retired views {}: {}", path, ec.message());
}

StoreResult<std::unique_ptr<LiveViews>> LiveViews::Open(eventstore::EventStore& store, LiveViewsOptions options) {
  std::unique_ptr<LiveViews> live(new LiveViews());
  live->impl_ = std::make_unique<Impl>(store, std::move(options));
  Impl& s = *live->impl_;
  auto rules = replay::RulesLog::Read(store);
  if (!rules) return rules.error();
  auto pointer = projections::ReadViewsPointer(s.options.data_dir);
  if (!pointer) return pointer.error();
  // No pointer: views from before rule adoption, built with the whole book.
  projections::ViewsPointer p = pointer->value_or(projections::ViewsPointer{"views", rules->last_position()});
  if (p.rules_position > rules->last_position()) {
    return StoreError(StoreErrorCode::kCorruption, "views.live names rules at position " +
                      std::to_string(p.rules_position) + ", beyond the log's last adoption");
  }
  auto book = rules->Book(p.rules_position);
  auto opened = s.OpenViews(p.dir, book, p.rules_position, s.options.on_catch_up);
  if (!opened) return opened.error();
  projections::ViewRunner& runner = *(*opened)->runner;
  const uint64_t opened_at = runner.Position();
  if (s.options.on_catch_up) {
    // Where the views stand before the first report of a long catch-up.
    projections::CatchUpProgress at;
    at.position = opened_at;
    at.target = std::max(opened_at, s.Log().CommittedPosition());
    s.options.on_catch_up(at);
  }
  if (auto caught = runner.CatchUp(); !caught) return caught.error();
  if (runner.Position() - opened_at > s.options.max_batch) {
    // A long catch-up (a start from scratch) leaves its last batches in the views
    // database's memtables, unsynced, and its working memory freed but resident.
    if (auto settled = runner.Settle(); !settled) return settled.error();
  }
  if (!*pointer) {
    if (auto w = projections::WriteViewsPointer(s.options.data_dir, p); !w) return w.error();
  }
  // Leftovers: a rebuild a crash interrupted, views retired while still read, what-if
  // shadows of an interrupted dry run. Not the live views' catch-up spill ("<dir>.spill"):
  // their runner removes it, one a crash left at its open, its own after its catch-up on a
  // thread of its own (projections/batch_pipeline.h: EndSpill), which may still run here;
  // removed here, the unlink of its files (1.2-1.3 s at 1:1) was before ready again.
  std::error_code ec;
  const std::string own_spill = p.dir + ".spill";
  for (const auto& entry : fs::directory_iterator(s.options.data_dir, ec)) {
    std::string name = entry.path().filename().string();
    if (entry.is_directory() && (name.starts_with("views") || name.starts_with("whatif-")) && name != p.dir &&
        name != own_spill) {
      ServingLog()->info("removing views directory {} (not live)", name);
      fs::remove_all(entry.path(), ec);
    }
  }
  if (s.options.on_changes) runner.OnChanges(s.options.on_changes);
  runner.Start();
  s.current.store(std::shared_ptr<const ServingViews>(std::move(*opened)));
  s.requested = rules->last_position();
  if (s.requested != p.rules_position) {
    ServingLog()->warn("the live views use the rules up to position {} but the log adopted rules at {}: "
                      "rebuilding (the current views answer meanwhile)", p.rules_position, s.requested);
    s.status.rebuilding = true;
    s.status.target_rules_position = s.requested;
  }
  s.worker = std::thread([&s] { s.Worker(); });
  return live;
}

LiveViews::~LiveViews() {
  if (!impl_) return;
  Stop();
}

void LiveViews::Stop() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  if (impl_->worker.joinable()) impl_->worker.join();
  std::lock_guard hold(impl_->hold_mu);
  if (auto c = Current()) c->runner->Stop();
}

void LiveViews::WithViewsHeld(const std::function<void(const ServingViews&)>& fn) {
  std::lock_guard hold(impl_->hold_mu);
  std::shared_ptr<const ServingViews> c = Current();
  bool stopping = false;
  {
    std::lock_guard lock(impl_->mu);
    stopping = impl_->stopping;
  }
  c->runner->Stop();
  struct Restart {
    projections::ViewRunner& runner;
    bool again;
    ~Restart() {
      if (again) runner.Start();
    }
  } restart{*c->runner, !stopping};  // not after a shutdown began
  fn(*c);
}

const std::string& LiveViews::data_dir() const { return impl_->options.data_dir; }

std::shared_ptr<const ServingViews> LiveViews::Current() const {
  return impl_->current.load(std::memory_order_acquire);
}

const LiveViews::RulesNow& LiveViews::Rules() const {
  struct Kept {
    uint64_t owner = 0;  // Impl::id; 0: nothing kept
    uint64_t generation = 0;
    std::shared_ptr<const domain::RuleBook> book;
    RulesNow now;
  };
  thread_local Kept kept;
  // The generation before the views: a switch after this load moves it again, so views
  // newer than the generation kept are loaded again at the next call, never older ones.
  const uint64_t generation = impl_->generation.load(std::memory_order_acquire);
  if (kept.owner != impl_->id || kept.generation != generation) {
    const std::shared_ptr<const ServingViews> c = Current();
    kept.book = c->rules;
    kept.now = {c->rules.get(), c->rules_position};
    kept.owner = impl_->id;
    kept.generation = generation;
  }
  return kept.now;
}

uint64_t LiveViews::Position() const { return Current()->runner->Position(); }
std::string LiveViews::failure() const { return Current()->runner->failure(); }
std::string LiveViews::paused() const { return Current()->runner->paused(); }

void LiveViews::Adopt(uint64_t rules_position) {
  {
    std::lock_guard lock(impl_->mu);
    if (rules_position <= impl_->requested && impl_->requested != impl_->current.load()->rules_position) return;
    if (rules_position < impl_->current.load()->rules_position) return;
    impl_->requested = rules_position;
    impl_->status.rebuilding = rules_position != impl_->current.load()->rules_position;
    impl_->status.target_rules_position = rules_position;
  }
  impl_->cv.notify_all();
}

AdoptionStatus LiveViews::status() const {
  std::lock_guard lock(impl_->mu);
  AdoptionStatus status = impl_->status;
  if (impl_->rebuilding) status.progress = impl_->rebuilding->Progress();
  return status;
}

bool LiveViews::WaitIdle(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout, [&] {
    return impl_->stopping || impl_->requested == impl_->current.load()->rules_position;
  });
}

}  // namespace caseledger::serving
