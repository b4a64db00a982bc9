// The views a server answers from, and their blue-green replacement when rules are
// adopted (replay/README.md).
//
// LiveViews owns the live ViewRunner (in the directory named by DATA/views.live) and the
// rule book it was built with. Adopt() rebuilds every view from position 1 into a new
// directory, on a background thread of lower CPU priority, while the old views keep
// following the log and answering; once the rebuild has caught up with the log the pointer
// file is switched (atomically, see views_pointer.h) and then Current() hands out the new
// views: one swap, so a reader sees either the old views with the old book or the new
// views with the new book, never a mix. A crash or failure at any moment before the
// pointer switch leaves the old views live; the next Open notices that the log holds a
// newer adoption than the live views use and rebuilds again (the old views serve
// meanwhile). The retired views are stopped, released when no reader holds them, and
// their directory deleted.
//
// Readers keep the shared_ptr from Current() for the duration of one answer. Thread
// safety: every method may be called from any thread.
#pragma once

#include "domain/reference.h"
#include "domain/rules.h"
#include "eventstore/event_store.h"
#include "projections/view_runner.h"
#include "projections/view_set.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace caseledger::serving {

// One generation of the live views. Immutable once handed out; a reader holds it (the
// shared_ptr of LiveViews::Current) for one whole answer, so a blue-green switch cannot
// release the views under it.
struct ServingViews {
  std::shared_ptr<projections::ViewRunner> runner;
  std::shared_ptr<const domain::RuleBook> rules;  // the book the views were built with
  uint64_t rules_position = 0;                    // RulesLog::last_position() of that book
  std::string dir;                                // under the data directory
  projections::TypedViews views;                  // the runner's views, by type (never null)

  const projections::MunicipalityView& municipalities() const { return *views.municipalities; }
  const projections::RegionView& region() const { return *views.region; }
  const projections::LabView& labs() const { return *views.labs; }
  const projections::SchoolView& schools() const { return *views.schools; }
  const projections::GpView& gps() const { return *views.gps; }
};

struct LiveViewsOptions {
  std::string data_dir;
  std::shared_ptr<const domain::ReferenceData> reference;
  std::chrono::milliseconds poll = std::chrono::milliseconds(20);
  size_t max_batch = 4096;
  // At most one live batch per interval (RunnerOptions::live_interval): under a flow of
  // small group commits the views' CPU per command falls by about half (measured at 5,000
  // commands/s), and a read with min_position waits at most this much longer.
  std::chrono::milliseconds live_interval{10};
  // Called after each published batch of the live views (Server-Sent Events); registered
  // on every runner that becomes live, and called once at each switch with the change
  // {view "rules", key <rules position>}. Must be quick.
  std::function<void(const std::vector<projections::ViewChange>&)> on_changes;
  // The server's memory budget in bytes (memory_budget.h; 0: kDefaultMemoryBudget): the
  // views take its shares of person records, GP patient rows and the views database's
  // block cache and memtables; the store's shares are the caller's to give the store.
  size_t memory_budget = 0;
  // Nice value of the rebuild's thread, so that a rebuild does not take CPU from commands
  // on a busy machine (0: same priority).
  int rebuild_nice = 10;
  // Test seam: called when a rebuild has caught up, just before the switch. Returning
  // false abandons the rebuild exactly where a crash would (the new directory stays, the
  // pointer is not switched).
  std::function<bool()> before_switch;
  // A read replica's log (serve --replica-of): the live views follow it instead of the
  // store, with synced batches (api/service.cc), and a rebuild after an adoption (copied
  // into the replica's local rules stream, whose positions Adopt() takes) reads the
  // primary's log from position 1 through it (the feed reads the stream for what it no
  // longer holds) while the old views keep answering.
  eventstore::LogReader* follow = nullptr;
  // Told where the live views' catch-up in Open stands: once before it, then every 5 s
  // while it runs (on Open's thread). `caseledger serve` answers /readyz and /metrics
  // with it while a start far behind the log catches up (api/service.cc).
  std::function<void(const projections::CatchUpProgress&)> on_catch_up;
  // The free-space floor of the views databases (projections::RunnerOptions).
  uint64_t min_free_bytes = 0;
};

struct AdoptionStatus {
  bool rebuilding = false;
  uint64_t target_rules_position = 0;  // of the running or last rebuild
  uint64_t switches = 0;               // rebuilds switched in since Open
  std::string error;                   // why the last rebuild failed; empty otherwise
  // Of the rebuild running (position, target, rate, ETA); all zero when none runs.
  projections::CatchUpProgress progress;
};

class LiveViews {
 public:
  // Opens the live views (creating them on first start), catches them up with the log and
  // starts following it. Resumes an adoption that a crash interrupted (see above).
  static eventstore::StoreResult<std::unique_ptr<LiveViews>> Open(eventstore::EventStore& store,
                                                                   LiveViewsOptions options);
  ~LiveViews();  // stops the rebuild and the runner
  LiveViews(const LiveViews&) = delete;
  LiveViews& operator=(const LiveViews&) = delete;

  // The views live now: an atomic load of a pointer, no lock (a switch swaps it).
  std::shared_ptr<const ServingViews> Current() const;

  // The rule book the live views were built with and its rules position, for a read that
  // needs only these (a person's answer). Held by the calling thread: good until the
  // thread's next call of Rules() (on any LiveViews). The thread keeps the book, never the
  // views (whose retirement waits for their readers); a switch is seen by the next call
  // after it, so a read never pairs one generation's book with another's position. Writes
  // no memory another thread reads, where Current() writes the pointer's lock bit and the
  // views' reference count, shared by every reader.
  struct RulesNow {
    const domain::RuleBook* book = nullptr;
    uint64_t position = 0;  // ServingViews::rules_position
  };
  const RulesNow& Rules() const;
  // Of the current views (conveniences for health checks and metrics).
  uint64_t Position() const;
  std::string failure() const;
  std::string paused() const;  // below the free-space floor: why nothing is applied

  // Rebuilds the views with the log's book up to the adoption at `rules_position` and
  // switches them in (see above). Returns at once. A newer request cancels a running
  // rebuild; a request for the book already live does nothing.
  void Adopt(uint64_t rules_position);
  AdoptionStatus status() const;
  // Waits until no rebuild runs or is queued; false on timeout.
  bool WaitIdle(std::chrono::milliseconds timeout) const;
  // Runs `fn` with the live views held still: their follower is stopped, so they stand at
  // one position for the whole call (the incremental what-if's base, what_if.h), and
  // restarted after. Readers keep reading them meanwhile; a switch waits for `fn`.
  void WithViewsHeld(const std::function<void(const ServingViews&)>& fn);
  // Stops the rebuild and the live runner's follower (shutdown).
  void Stop();
  const std::string& data_dir() const;

 private:
  LiveViews() = default;
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace caseledger::serving
