// Answering a group once its WAL write and sync succeeded, while its memtable inserts run
// (group_commit.cc, step 3), and passing the turn to write the next group.
#include "eventstore/rocks_event_store.h"

#include "eventstore/store_logger.h"

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

void RocksEventStore::Synced(Group& group) {
  bool early = false;
  {
    std::lock_guard t(turn_mu_);
    early = group.erasures.empty() && groups_answered_ == group.ticket - 1;
  }
  const bool here = early && group.pending.size() <= kAnswerAtSync;
  // Before the turn passes: the other thread gathers the next group for these appenders.
  if (here) MarkAnswered(group);
  PassTurn(early && !here ? &group : nullptr);
  if (!here) return;
  // Before the answers: a read made after one waits until the watermark passes it.
  answered_position_.store(group.end_position - 1, std::memory_order_release);
  Answer(group);
  std::lock_guard t(turn_mu_);
  groups_answered_ = group.ticket;
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
