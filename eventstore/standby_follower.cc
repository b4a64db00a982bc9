// The standby's side of a warm standby (standby.h, docs/standby.md).
#include "eventstore/nats_link.h"
#include "eventstore/standby.h"
#include "eventstore/standby_frame.h"
#include "eventstore/store_logger.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

namespace caseledger::eventstore {

class StandbyFollower::Impl {
 public:
  Impl(EventStore& s, StandbyFollowOptions o) : store(s), options(std::move(o)) {}

  void Run();
  bool Subscribe();
  // Takes one fetch's messages: frames are merged and applied with one synced write.
  void Handle(natsMsgList& list);
  bool Apply(ShippedBatches& merged, uint64_t stream_seq, int64_t published_ns);
  void Refuse(std::string why);
  void SetFailure(std::string why);
  void Backoff();

  EventStore& store;
  const StandbyFollowOptions options;
  std::thread thread;
  std::atomic<bool> stopping{false};
  std::atomic<bool> draining{false};
  std::chrono::steady_clock::time_point drain_until;
  std::chrono::milliseconds backoff{100};
  std::unique_ptr<NatsLink> link;
  natsSubscription* sub = nullptr;
  FrameAssembler assembler;
  uint64_t assembled_from = 0;  // stream sequence of the frame being assembled

  mutable std::mutex mu;
  std::string failure;
  std::atomic<uint64_t> primary_position{0};
  std::atomic<uint64_t> pending{0};
  std::atomic<uint64_t> frames{0};
  std::atomic<uint64_t> refused{0};
  std::atomic<int64_t> last_published_ns{0};
  std::atomic<bool> connected{false};
  std::atomic<bool> stopped{false};
};

void StandbyFollower::Impl::SetFailure(std::string why) {
  std::lock_guard lock(mu);
  if (failure != why) StoreLog()->warn("standby: {}", why);
  failure = std::move(why);
}

// A frame the standby must not take: it stops where it is, with nothing of it written.
void StandbyFollower::Impl::Refuse(std::string why) {
  refused.fetch_add(1);
  stopped.store(true);
  StoreLog()->critical("standby: refused a frame and stopped following at position {}: {}", store.CommittedPosition(), why);
  SetFailure("refused: " + why);
}

void StandbyFollower::Impl::Backoff() { SleepBackoff(stopping, backoff, options.max_backoff); }

// A pull consumer from the stream sequence after the last one applied (recorded in the
// store with what it applied), recreated on every start: the store, not the consumer,
// says where the standby is.
bool StandbyFollower::Impl::Subscribe() {
  const std::string subject = options.subject + ".>";
  const uint64_t start = store.Role().stream_sequence + 1;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  js_DeleteConsumer(link->js(), options.stream.c_str(), options.durable.c_str(), nullptr, &jerr);
  jsConsumerConfig cc;
  jsConsumerConfig_Init(&cc);
  cc.Durable = options.durable.c_str();
  cc.AckPolicy = js_AckNone;
  cc.FilterSubject = subject.c_str();
  if (start > 1) {
    cc.DeliverPolicy = js_DeliverByStartSequence;
    cc.OptStartSeq = start;
  } else {
    cc.DeliverPolicy = js_DeliverAll;
  }
  jsConsumerInfo* ci = nullptr;
  jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_AddConsumer(&ci, link->js(), options.stream.c_str(), &cc, nullptr, &jerr);
  jsConsumerInfo_Destroy(ci);
  if (s != NATS_OK) {
    SetFailure("consumer " + options.durable + " on " + options.stream + ": " + NatsErrorText(s, jerr));
    return false;
  }
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = options.stream.c_str();
  so.Consumer = options.durable.c_str();
  jerr = static_cast<jsErrCode>(0);
  s = js_PullSubscribe(&sub, link->js(), subject.c_str(), options.durable.c_str(), nullptr, &so, &jerr);
  if (s != NATS_OK) {
    sub = nullptr;
    SetFailure("subscribing to " + options.durable + ": " + NatsErrorText(s, jerr));
    return false;
  }
  assembler = FrameAssembler();
  std::lock_guard lock(mu);
  failure.clear();
  return true;
}

bool StandbyFollower::Impl::Apply(ShippedBatches& merged, uint64_t stream_seq, int64_t published_ns) {
  auto applied = store.ApplyShipped(merged, stream_seq);
  if (!applied) {
    if (applied.error().code == StoreErrorCode::kCorruption) {
      Refuse(applied.error().message);
    } else {
      SetFailure("applying: " + applied.error().message);
      stopped.store(true);  // a failed write: the store refuses until restarted
    }
    return false;
  }
  frames.fetch_add(1, std::memory_order_relaxed);
  last_published_ns.store(published_ns);
  if (options.on_applied && applied->events > 0) options.on_applied(*applied);
  merged.batches.clear();
  return true;
}

void StandbyFollower::Impl::Handle(natsMsgList& list) {
  const FrameMac mac = [this](std::string_view b) { return store.ShipMac(b); };
  ShippedBatches merged;
  bool have = false;
  uint64_t merged_seq = 0;
  int64_t merged_ns = 0;
  bool merged_seed = false;
  for (int i = 0; i < list.Count && !stopped.load(); ++i) {
    natsMsg* m = list.Msgs[i];
    uint64_t seq = 0;
    int64_t published_ns = 0;
    if (jsMsgMetaData* meta = nullptr; natsMsg_GetMetaData(&meta, m) == NATS_OK) {
      seq = meta->Sequence.Stream;
      pending.store(meta->NumPending);
      published_ns = meta->Timestamp;
      jsMsgMetaData_Destroy(meta);
    }
    std::string why;
    auto whole = assembler.Add(std::string_view(natsMsg_GetData(m), size_t(natsMsg_GetDataLength(m))), &why);
    if (!whole) {
      if (!why.empty()) {
        Refuse(why);
        break;
      }
      continue;  // a part; the frame completes later
    }
    if (!why.empty()) StoreLog()->warn("standby: {}", why);
    auto frame = DecodeFrame(*whole, mac, &why);
    if (!frame) {
      Refuse(why + " at stream sequence " + std::to_string(seq));
      break;
    }
    const uint64_t primary_epoch = store.Role().primary_epoch;
    if (frame->kind == FrameKind::kFence) {
      if (frame->shipped.epoch > primary_epoch) {
        if (have && !Apply(merged, merged_seq, merged_ns)) break;
        have = false;
        stopped.store(true);
        SetFailure("a standby was promoted at epoch " + std::to_string(frame->shipped.epoch) +
                   ": this one follows no more (seed it again from the new primary)");
        break;
      }
      continue;  // an older fence: what follows it is the primary's after its own promotion
    }
    ShippedBatches& s = frame->shipped;
    primary_position.store(std::max(primary_position.load(), s.primary_committed));
    // A seed's parts are applied one by one, never merged with each other or with WAL batches.
    const bool seed = frame->kind == FrameKind::kSeed;
    if (have && (s.epoch != merged.epoch || s.families != merged.families || seed || merged_seed)) {
      if (!Apply(merged, merged_seq, merged_ns)) break;
      have = false;
    }
    if (!have) {
      merged = std::move(s);
      have = true;
    } else {
      for (std::string& b : s.batches) merged.batches.push_back(std::move(b));
      merged.end_sequence = s.end_sequence;
      merged.primary_committed = std::max(merged.primary_committed, s.primary_committed);
    }
    merged_seq = seq;
    merged_ns = published_ns;
    merged_seed = seed;
  }
  if (have && !stopped.load()) Apply(merged, merged_seq, merged_ns);
}

void StandbyFollower::Impl::Run() {
  while (!stopping.load()) {
    if (draining.load() && (stopped.load() || std::chrono::steady_clock::now() > drain_until)) break;
    if (stopped.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    if (!link) {
      NatsLinkOptions lo;
      lo.urls = options.urls;
      lo.name = "caseledger-standby-" + options.durable;
      lo.api_wait = options.api_wait;
      std::string error;
      link = NatsLink::Connect(lo, &error);
      if (!link) {
        SetFailure(error);
        Backoff();
        continue;
      }
    }
    connected.store(link->connected());
    if (sub == nullptr && (!link->connected() || !Subscribe())) {
      Backoff();
      continue;
    }
    natsMsgList list{nullptr, 0};
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s = natsSubscription_Fetch(&list, sub, options.fetch_batch, draining.load() ? 50 : 200, &jerr);
    if (s == NATS_TIMEOUT) {
      pending.store(0);
      if (draining.load() && !assembler.in_part()) break;  // the stream holds nothing more
      continue;
    }
    if (s != NATS_OK) {
      SetFailure("fetching: " + NatsErrorText(s, jerr));
      natsMsgList_Destroy(&list);
      natsSubscription_Destroy(sub);
      sub = nullptr;
      Backoff();
      continue;
    }
    backoff = std::chrono::milliseconds(100);
    Handle(list);
    natsMsgList_Destroy(&list);
  }
  if (draining.load()) {
    StoreLog()->info("standby: stopped following at position {} (stream sequence {})", store.CommittedPosition(),
                     store.Role().stream_sequence);
  }
  if (sub != nullptr) natsSubscription_Destroy(sub);
  sub = nullptr;
  link.reset();
}

std::unique_ptr<StandbyFollower> StandbyFollower::Start(EventStore& store, StandbyFollowOptions options) {
  std::unique_ptr<StandbyFollower> follower(new StandbyFollower());
  follower->impl_ = std::make_unique<Impl>(store, std::move(options));
  Impl& impl = *follower->impl_;
  impl.thread = std::thread([&impl] { impl.Run(); });
  return follower;
}

StandbyFollower::~StandbyFollower() { Stop(); }

void StandbyFollower::Stop() {
  if (!impl_ || !impl_->thread.joinable()) return;
  impl_->stopping.store(true);
  impl_->thread.join();
}

void StandbyFollower::Drain(std::chrono::milliseconds timeout) {
  if (!impl_ || !impl_->thread.joinable()) return;
  impl_->drain_until = std::chrono::steady_clock::now() + timeout;
  impl_->draining.store(true);
  impl_->thread.join();
}

StandbyFollowStatus StandbyFollower::Status() const {
  StandbyFollowStatus s;
  const StoreRole role = impl_->store.Role();
  s.position = impl_->store.CommittedPosition();
  s.primary_position = std::max(impl_->primary_position.load(), s.position);
  s.pending_messages = impl_->pending.load();
  s.applied_sequence = role.applied_sequence;
  s.frames = impl_->frames.load();
  s.refused = impl_->refused.load();
  if (const int64_t ns = impl_->last_published_ns.load(); ns > 0) {
    const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
    s.last_frame_age_ms = std::max<int64_t>(0, (now - ns) / 1'000'000);
  }
  s.connected = impl_->connected.load();
  s.stopped = impl_->stopped.load() || impl_->stopping.load() || impl_->draining.load();
  std::lock_guard lock(impl_->mu);
  s.failure = impl_->failure;
  return s;
}

}  // namespace caseledger::eventstore
