// Answering a group once its WAL write and sync succeeded, while its memtable inserts run
// (group_commit.cc, step 3), and passing the turn to write the next group.
#include "eventstore/rocks_event_store.h"

#include "eventstore/store_logger.h"

#include <algorithm>
#include <utility>

namespace caseledger::eventstore {
namespace {

// The largest group answered at its sync, on the thread that saw it, before its inserts. At
// 64 closed-loop appenders (groups of ~64) that takes the other commit thread's wake-up off
// the path from one sync to the next; at 1,024 (groups of ~900) a group's inserts, not its
// sync, are the pipeline's serial step (the next group's first insert waits for them), and
// answering before them lengthened it: 15 % fewer appends/s, median of 8 pairs. Larger
// groups are answered by the other thread, beside the inserts.
constexpr size_t kAnswerAtSync = 256;

// Groups not held after a read ended a hold (HoldInserts): one in 16 is held to look again.
constexpr uint32_t kSkipAfterRead = 15;

}  // namespace

void RocksEventStore::PassTurn(Group* synced) {
  {
    std::lock_guard t(turn_mu_);
    turn_taken_ = false;
    if (synced) to_answer_ = synced;
  }
  turn_cv_.notify_all();
}

void RocksEventStore::MarkAnswered(Group& group) {
  std::lock_guard l(write_mu_);
  group.answered = true;
  answered_since_take_ += group.pending.size();  // free to come back: the gather counts them
  // A claim read before the answer no longer stands once it is given (Prepare reads again).
  if (!group.state.claims.empty()) claims_written_.fetch_add(1, std::memory_order_release);
}

std::chrono::steady_clock::duration RocksEventStore::Synced(Group& group) {
  bool early = false;
  {
    std::lock_guard t(turn_mu_);
    early = group.erasures.empty() && groups_answered_ == group.ticket - 1;
  }
  const bool here = early && group.pending.size() <= kAnswerAtSync;
  // Before the turn passes: the other thread gathers the next group for these appenders.
  if (here) MarkAnswered(group);
  PassTurn(early && !here ? &group : nullptr);
  if (!here) return {};
  // Before the answers: a read made after one waits until the watermark passes it.
  answered_position_.store(group.end_position - 1, std::memory_order_release);
  Answer(group);
  {
    std::lock_guard t(turn_mu_);
    groups_answered_ = group.ticket;
  }
  // Its appenders now make their next requests on the clients' threads (a server's I/O
  // threads), ~4 µs of CPU each on 2 cores: its inserts, ~1.5 µs an append, would take a
  // third of the cores from them and lengthen the gap between two syncs, which is what a
  // closed loop of appenders waits for (docs/benchmarks.md, session 31). Held until the next
  // group is taken, they run during its WAL write and sync, when the cores are otherwise idle.
  return HoldInserts(group, std::chrono::nanoseconds(hold_bound_ns_.load(std::memory_order_relaxed)));
}

std::chrono::steady_clock::duration RocksEventStore::HoldInserts(const Group& group,
                                                                 std::chrono::steady_clock::duration bound) {
  if (bound <= std::chrono::steady_clock::duration::zero()) return {};
  const auto start = std::chrono::steady_clock::now();
  const uint64_t last = group.end_position - 1;
  std::unique_lock h(hold_mu_);
  if (released_ >= group.ticket) return {};
  // Appenders that read the store before they append again (a server's commands: the
  // person's stream, its version) wait for these inserts whatever happens: holding them
  // only makes those reads wait longer. Once a read ends a hold (or comes before it), the
  // next kSkipAfterRead groups are not held; then one is, to find out whether reads still come.
  if (read_waits_for_ >= last) {
    skip_holds_ = kSkipAfterRead;
    return {};
  }
  if (skip_holds_ > 0) {
    --skip_holds_;
    return {};
  }
  held_ = group.ticket;
  held_last_ = last;
  hold_cv_.wait_until(h, start + bound, [&] { return released_ >= group.ticket || read_waits_for_ >= last; });
  held_ = 0;
  if (released_ < group.ticket && read_waits_for_ >= last) skip_holds_ = kSkipAfterRead;
  return std::chrono::steady_clock::now() - start;
}

void RocksEventStore::ReleaseInserts(uint64_t ticket) {
  bool wake = false;
  {
    std::lock_guard h(hold_mu_);
    released_ = std::max(released_, ticket);
    wake = held_ != 0 && held_ <= released_;
  }
  if (wake) hold_cv_.notify_one();
}

void RocksEventStore::ReleaseInsertsForRead(uint64_t answered) const {
  bool wake = false;
  {
    std::lock_guard h(hold_mu_);
    read_waits_for_ = std::max(read_waits_for_, answered);
    wake = held_ != 0 && held_last_ <= read_waits_for_;
  }
  if (wake) hold_cv_.notify_one();
}

void RocksEventStore::AnswerSynced() {
  Group* group = nullptr;
  {
    std::lock_guard t(turn_mu_);
    group = std::exchange(to_answer_, nullptr);
    if (!group) return;
    answering_ = group->ticket;
  }
  MarkAnswered(*group);
  answered_position_.store(group->end_position - 1, std::memory_order_release);
  Answer(*group);
  {
    std::lock_guard t(turn_mu_);
    groups_answered_ = group->ticket;
    answering_ = 0;
  }
  turn_cv_.notify_all();
}

void RocksEventStore::Answer(Group& group) {
  std::shared_ptr<const std::vector<AnswerHooks>> hooks;
  {
    std::lock_guard cl(commit_mu_);
    hooks = answer_hooks_;
  }
  for (const AnswerHooks& h : *hooks) {
    if (h.before) h.before();
  }
  for (Pending& p : group.pending) {
    try {
      p.done(std::move(p.result));
    } catch (const std::exception& e) {
      StoreLog()->critical("append callback threw: {}", e.what());
    }
  }
  for (const AnswerHooks& h : *hooks) {
    if (h.after) h.after();
  }
}

}  // namespace caseledger::eventstore
