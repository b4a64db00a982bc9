#include "eventstore/nats_replica_feed.h"

#include "domain/event_json.h"
#include "eventstore/event_store.h"
#include "eventstore/nats_link.h"
#include "eventstore/replica_message.h"
#include "eventstore/store_logger.h"


#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

namespace caseledger::eventstore {
namespace {

struct Item {
  domain::Envelope envelope;
  natsMsg* msg;  // acknowledged and destroyed once the views applied the envelope
};

// The envelope a relayed message carries; nullopt with `why` when it does not decode or
// its position header disagrees with its body.
std::optional<domain::Envelope> EnvelopeOf(natsMsg* msg, std::string* why) {
  const uint64_t position = PositionHeader(msg);
  auto env = DecodeReplicaMessage(
      position, std::string_view(natsMsg_GetData(msg), size_t(natsMsg_GetDataLength(msg))));
  if (!env) {
    *why = "message for position " + std::to_string(position) + " does not decode: " + env.error().message;
    return std::nullopt;
  }
  return std::move(env->envelope);
}

}  // namespace

class NatsReplicaFeed::Impl {
 public:
  explicit Impl(ReplicaFeedOptions o) : options(std::move(o)) {}

  void Run();
  bool Subscribe();
  // Handles one fetched message (takes it); returns a stream sequence to restart the
  // consumer from when the message leaves a gap.
  std::optional<uint64_t> Handle(natsMsg* msg);
  void AckApplied();
  void Reposition(uint64_t start_seq);
  void Fail(std::string why);
  void Backoff();
  void DropSubscription();

  const ReplicaFeedOptions options;
  std::function<uint64_t()> applied;
  std::thread thread;
  std::atomic<bool> stopping{false};
  std::chrono::milliseconds backoff{100};

  std::unique_ptr<NatsLink> link;  // feed thread only
  natsSubscription* sub = nullptr;
  uint64_t start_seq = 0;       // 0: deliver all (only when the consumer is created)
  uint64_t last_reposition = 0;

  mutable std::mutex mu;
  mutable std::condition_variable cv;
  std::deque<Item> items;       // contiguous positions
  std::atomic<uint64_t> received{0};
  std::atomic<uint64_t> duplicates{0};
  std::atomic<uint64_t> repositions{0};
  std::atomic<bool> connected{false};
  std::atomic<bool> poisoned{false};
  std::string failure;  // guarded by mu

  // Reads of positions the feed no longer holds (ReadLog), on the reader's thread.
  StoreResult<std::vector<domain::Envelope>> ReadStream(uint64_t from, uint64_t to) const;
  mutable std::mutex stream_mu;
  mutable std::unique_ptr<NatsLink> stream_link;  // guarded by stream_mu
  mutable int64_t seq_offset = 0;                 // stream sequence - position; guarded by stream_mu
};

StoreResult<std::vector<domain::Envelope>> NatsReplicaFeed::Impl::ReadStream(uint64_t from, uint64_t to) const {
  std::lock_guard lock(stream_mu);
  if (!stream_link || !stream_link->connected()) {
    NatsLinkOptions lo;
    lo.urls = options.urls;
    lo.name = "caseledger-replica-history-" + options.durable;
    std::string error;
    stream_link = NatsLink::Connect(lo, &error);
    if (!stream_link) return StoreError(StoreErrorCode::kIo, "reading the stream: " + error);
  }
  std::vector<domain::Envelope> out;
  for (uint64_t position = from; position <= to; ++position) {
    // Sequences and positions advance together; where they are apart by an offset (a
    // stream that starts later), the first message read says by how much.
    std::optional<domain::Envelope> env;
    std::string why;
    for (int attempt = 0; attempt < 2 && !env; ++attempt) {
      const int64_t seq = int64_t(position) + seq_offset;
      natsMsg* m = nullptr;
      jsErrCode jerr = static_cast<jsErrCode>(0);
      natsStatus s = seq >= 1 ? js_GetMsg(&m, stream_link->js(), options.stream.c_str(), uint64_t(seq), nullptr, &jerr)
                              : NATS_NOT_FOUND;
      if (s != NATS_OK) {
        return StoreError(StoreErrorCode::kIo, "reading position " + std::to_string(position) + " from stream " +
                                                   options.stream + ": " + NatsErrorText(s, jerr));
      }
      env = EnvelopeOf(m, &why);
      const uint64_t got = PositionHeader(m);
      natsMsg_Destroy(m);
      if (!env) return StoreError(StoreErrorCode::kCorruption, why);
      if (env->position != position) {
        seq_offset += int64_t(position) - int64_t(got);
        env.reset();
      }
    }
    if (!env) {
      return StoreError(StoreErrorCode::kCorruption,
                        "stream " + options.stream + " does not hold position " + std::to_string(position));
    }
    out.push_back(std::move(*env));
  }
  return out;
}

void NatsReplicaFeed::Impl::Fail(std::string why) {
  std::lock_guard lock(mu);
  if (failure != why) StoreLog()->warn("replica feed: {}", why);
  failure = std::move(why);
}

void NatsReplicaFeed::Impl::Backoff() { SleepBackoff(stopping, backoff, options.max_backoff); }

void NatsReplicaFeed::Impl::DropSubscription() {
  if (sub != nullptr) natsSubscription_Destroy(sub);
  sub = nullptr;
}

// Binds to the durable consumer, creating it when missing (from start_seq, or from the
// stream's beginning).
bool NatsReplicaFeed::Impl::Subscribe() {
  const std::string subject = options.subject_prefix + ".>";
  jsErrCode jerr = static_cast<jsErrCode>(0);
  jsConsumerInfo* ci = nullptr;
  natsStatus s = js_GetConsumerInfo(&ci, link->js(), options.stream.c_str(), options.durable.c_str(), nullptr, &jerr);
  if (s == NATS_OK && ci->AckFloor.Stream > 0) {
    // The consumer has acknowledged messages the views may not hold (their database was
    // deleted or restored from an older copy): then start it again from the right place.
    const uint64_t floor_seq = ci->AckFloor.Stream;
    natsMsg* m = nullptr;
    uint64_t floor_position = 0;
    if (js_GetMsg(&m, link->js(), options.stream.c_str(), floor_seq, nullptr, nullptr) == NATS_OK) {
      floor_position = PositionHeader(m);
      natsMsg_Destroy(m);
    }
    const uint64_t base = received.load();
    if (floor_position > base) {
      jsConsumerInfo_Destroy(ci);
      ci = nullptr;
      const uint64_t gap = floor_position - base;  // positions base+1..floor_position
      const uint64_t seq = floor_seq >= gap ? floor_seq - gap + 1 : 1;
      StoreLog()->warn("replica feed: consumer {} acknowledged up to position {} but the views hold {}; "
                       "recreating it from stream sequence {}",
                       options.durable, floor_position, base, seq);
      repositions.fetch_add(1);
      js_DeleteConsumer(link->js(), options.stream.c_str(), options.durable.c_str(), nullptr, nullptr);
      start_seq = seq;
      s = NATS_NOT_FOUND;
    }
  }
  if (s == NATS_NOT_FOUND || jerr == JSConsumerNotFoundErr) {
    jsConsumerConfig cc;
    jsConsumerConfig_Init(&cc);
    cc.Durable = options.durable.c_str();
    cc.AckPolicy = js_AckExplicit;
    cc.AckWait = int64_t(options.ack_wait.count()) * 1'000'000'000;
    cc.MaxAckPending = int64_t(options.max_buffered) + options.fetch_batch * 2;
    cc.FilterSubject = subject.c_str();
    if (start_seq > 1) {
      cc.DeliverPolicy = js_DeliverByStartSequence;
      cc.OptStartSeq = start_seq;
    } else {
      cc.DeliverPolicy = js_DeliverAll;
    }
    jerr = static_cast<jsErrCode>(0);
    s = js_AddConsumer(&ci, link->js(), options.stream.c_str(), &cc, nullptr, &jerr);
  }
  jsConsumerInfo_Destroy(ci);
  if (s != NATS_OK) {
    Fail("consumer " + options.durable + " on " + options.stream + ": " + NatsErrorText(s, jerr));
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
    Fail("subscribing to " + options.durable + ": " + NatsErrorText(s, jerr));
    return false;
  }
  std::lock_guard lock(mu);
  failure.clear();
  return true;
}

std::optional<uint64_t> NatsReplicaFeed::Impl::Handle(natsMsg* msg) {
  const uint64_t position = PositionHeader(msg);
  std::string why;
  std::optional<domain::Envelope> env = EnvelopeOf(msg, &why);
  if (!env) {
    // A message the views cannot take is never skipped: the replica stops here.
    Fail(why);
    poisoned.store(true);
    natsMsg_Destroy(msg);
    return std::nullopt;
  }
  const uint64_t last = received.load();
  if (position <= last) {
    duplicates.fetch_add(1, std::memory_order_relaxed);
    // Acknowledged only when applied; otherwise the copy in `items` is acknowledged later.
    if (position <= applied()) natsMsg_Ack(msg, nullptr);
    natsMsg_Destroy(msg);
    return std::nullopt;
  }
  if (position > last + 1) {
    jsMsgMetaData* meta = nullptr;
    uint64_t seq = 0;
    if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
      seq = meta->Sequence.Stream;
      jsMsgMetaData_Destroy(meta);
    }
    natsMsg_Destroy(msg);
    // Stream sequences and positions advance together (the relay publishes them in step).
    const uint64_t gap = position - (last + 1);
    return seq > gap ? seq - gap : 1;
  }
  if (options.before_apply) {
    if (!options.before_apply(*env, &why)) {
      Fail("position " + std::to_string(position) + ": " + why);
      poisoned.store(true);
      natsMsg_Destroy(msg);
      return std::nullopt;
    }
  }
  {
    std::lock_guard lock(mu);
    items.push_back({std::move(*env), msg});
    received.store(position, std::memory_order_release);
  }
  cv.notify_all();
  return std::nullopt;
}

void NatsReplicaFeed::Impl::AckApplied() {
  const uint64_t a = applied();
  std::vector<natsMsg*> done;
  {
    std::lock_guard lock(mu);
    while (!items.empty() && items.front().envelope.position <= a) {
      done.push_back(items.front().msg);
      items.pop_front();
    }
  }
  for (natsMsg* m : done) {
    natsMsg_Ack(m, nullptr);
    natsMsg_Destroy(m);
  }
}

void NatsReplicaFeed::Impl::Reposition(uint64_t seq) {
  if (seq == last_reposition) {
    Fail("stream " + options.stream + " lacks the positions after " + std::to_string(received.load()) +
         " (they are not at stream sequence " + std::to_string(seq) + " or later); the replica stops");
    poisoned.store(true);
    return;
  }
  StoreLog()->warn("replica feed: a gap after position {}; recreating consumer {} from stream sequence {}",
                   received.load(), options.durable, seq);
  last_reposition = seq;
  repositions.fetch_add(1);
  DropSubscription();
  jsErrCode jerr = static_cast<jsErrCode>(0);
  js_DeleteConsumer(link->js(), options.stream.c_str(), options.durable.c_str(), nullptr, &jerr);
  start_seq = seq;
}

void NatsReplicaFeed::Impl::Run() {
  while (!stopping.load()) {
    if (poisoned.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    if (!link) {
      NatsLinkOptions lo;
      lo.urls = options.urls;
      lo.name = "caseledger-replica-" + options.durable;
      std::string error;
      link = NatsLink::Connect(lo, &error);
      if (!link) {
        Fail(error);
        Backoff();
        continue;
      }
    }
    connected.store(link->connected());
    if (sub == nullptr && (!link->connected() || !Subscribe())) {
      Backoff();
      continue;
    }
    AckApplied();
    bool full;
    {
      std::lock_guard lock(mu);
      full = items.size() >= options.max_buffered;
    }
    if (full) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    natsMsgList list{nullptr, 0};
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s = natsSubscription_Fetch(&list, sub, options.fetch_batch, 200, &jerr);
    if (s == NATS_TIMEOUT) continue;
    if (s != NATS_OK) {
      Fail("fetching: " + NatsErrorText(s, jerr));
      natsMsgList_Destroy(&list);
      // The consumer may have gone (a NATS node lost): bind again once connected.
      DropSubscription();
      Backoff();
      continue;
    }
    backoff = std::chrono::milliseconds(100);
    std::optional<uint64_t> restart;
    for (int i = 0; i < list.Count && !restart && !poisoned.load(); ++i) {
      natsMsg* m = list.Msgs[i];
      list.Msgs[i] = nullptr;
      restart = Handle(m);
    }
    natsMsgList_Destroy(&list);  // what is left after a gap: delivered again later
    if (restart) Reposition(*restart);
  }
  AckApplied();
  DropSubscription();
  std::lock_guard lock(mu);
  for (Item& item : items) natsMsg_Destroy(item.msg);
  items.clear();
  link.reset();
}

NatsReplicaFeed::NatsReplicaFeed(ReplicaFeedOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

NatsReplicaFeed::~NatsReplicaFeed() { Stop(); }

void NatsReplicaFeed::Start(uint64_t applied_base, std::function<uint64_t()> applied) {
  if (impl_->thread.joinable()) return;
  impl_->received.store(applied_base);
  impl_->applied = std::move(applied);
  impl_->thread = std::thread([this] { impl_->Run(); });
}

void NatsReplicaFeed::Stop() {
  if (!impl_->thread.joinable()) return;
  impl_->stopping.store(true);
  impl_->cv.notify_all();
  impl_->thread.join();
}

StoreResult<std::vector<domain::Envelope>> NatsReplicaFeed::ReadLog(uint64_t from, size_t max_count) const {
  constexpr size_t kStreamBatch = 1024;  // positions read from the stream per call
  std::vector<domain::Envelope> out;
  if (from == 0) from = 1;
  uint64_t history_end = 0;  // the last position to read from the stream
  {
    std::lock_guard lock(impl_->mu);
    const uint64_t received = impl_->received.load();
    if (max_count == 0 || from > received) return out;
    const uint64_t first = impl_->items.empty() ? received + 1 : impl_->items.front().envelope.position;
    if (from >= first) {
      for (size_t i = from - first; i < impl_->items.size() && out.size() < max_count; ++i) {
        out.push_back(impl_->items[i].envelope);
      }
      return out;
    }
    history_end = std::min<uint64_t>(first - 1, from + std::min(max_count, kStreamBatch) - 1);
  }
  return impl_->ReadStream(from, history_end);
}

uint64_t NatsReplicaFeed::CommittedPosition() const { return impl_->received.load(std::memory_order_acquire); }

bool NatsReplicaFeed::WaitForPosition(uint64_t position, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout, [&] {
    return impl_->received.load() >= position || impl_->stopping.load();
  }) && impl_->received.load() >= position;
}

ReplicaFeedStatus NatsReplicaFeed::Status() const {
  ReplicaFeedStatus s;
  s.received_position = impl_->received.load();
  s.duplicates = impl_->duplicates.load();
  s.repositions = impl_->repositions.load();
  s.connected = impl_->connected.load();
  std::lock_guard lock(impl_->mu);
  s.failure = impl_->failure;
  return s;
}

}  // namespace caseledger::eventstore
