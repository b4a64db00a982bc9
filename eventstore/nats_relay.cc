#include "eventstore/nats_relay.h"

#include "domain/event_codec.h"
#include "domain/event_json.h"
#include "eventstore/nats_link.h"
#include "eventstore/store_logger.h"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace caseledger::eventstore {
namespace {

// Wakes the relay thread on a commit or an ack. Shared with the store's commit listener,
// which cannot be removed and so may outlive the relay.
struct Wakeup {
  std::mutex mu;
  std::condition_variable cv;
  uint64_t ticks = 0;
  void Notify() {
    {
      std::lock_guard lock(mu);
      ++ticks;
    }
    cv.notify_all();
  }
  void WaitFor(uint64_t seen, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu);
    cv.wait_for(lock, timeout, [&] { return ticks != seen; });
  }
  uint64_t Ticks() {
    std::lock_guard lock(mu);
    return ticks;
  }
};

enum class SlotState { kPending, kAcked, kFailed };
struct Slot {
  uint64_t position;
  SlotState state;
};

// The public JSON of one envelope, as published.
std::optional<std::string> Payload(const domain::Envelope& env, std::string* why) {
  // Personal fields are never decoded here: the relay must work on encrypted ones.
  auto event = domain::Decode(env.type, env.schema_version, env.body, {});
  if (!event) {
    *why = env.type + " at position " + std::to_string(env.position) +
           " does not decode: " + event.error().message;
    return std::nullopt;
  }
  boost::json::object o = domain::EnvelopeToJson(env, *event, false);
  // The hashes cover the personal bytes (a consumer cannot check them without those) and
  // the idempotency key is the client's own text: neither leaves the node.
  o.erase("prev_hash");
  o.erase("hash");
  o.erase("idempotency_key");
  return boost::json::serialize(o);
}

}  // namespace

class NatsRelay::Impl {
 public:
  Impl(EventStore& s, RelayOptions o) : store(s), options(std::move(o)), wake(std::make_shared<Wakeup>()) {}

  void Run();
  bool Connect();
  bool Resync();
  void Publish();  // fills the window from the log
  bool DrainFailedSession();
  void PersistCheckpoint(bool force);
  void Backoff();
  void SetFailure(std::string why);
  static void OnAck(jsCtx* js, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure);

  EventStore& store;
  const RelayOptions options;
  std::shared_ptr<Wakeup> wake;
  std::thread thread;
  std::atomic<bool> stopping{false};

  std::unique_ptr<NatsLink> link;  // relay thread only (OnAck compares its js)
  bool in_session = false;         // relay thread only
  std::chrono::milliseconds backoff{100};
  uint64_t persisted = 0;
  std::chrono::steady_clock::time_point persisted_at;

  mutable std::mutex mu;  // guards the session state below
  jsCtx* session_js = nullptr;
  std::deque<Slot> inflight;  // contiguous positions, oldest first
  size_t pending = 0;         // slots still kPending
  uint64_t next = 1;          // next position to publish
  uint64_t base_position = 0; // the stream's last position at the session start ...
  uint64_t base_seq = 0;      // ... and its stream sequence
  bool session_failed = false;
  std::string failure;
  std::atomic<uint64_t> acked{0};
  std::atomic<uint64_t> published{0};
  std::atomic<uint64_t> resyncs{0};
  std::atomic<bool> connected{false};
  std::atomic<bool> poisoned{false};
};

void NatsRelay::Impl::SetFailure(std::string why) {
  std::lock_guard lock(mu);
  if (failure != why) StoreLog()->warn("nats relay: {}", why);
  failure = std::move(why);
}

void NatsRelay::Impl::Backoff() {
  // Commits and acks tick `wake` all the time; only Stop() may cut the backoff short.
  SleepBackoff(stopping, backoff, options.max_backoff);
}

bool NatsRelay::Impl::Connect() {
  NatsLinkOptions lo;
  lo.urls = options.urls;
  lo.name = "caseledger-relay";
  lo.ack_handler = &Impl::OnAck;
  lo.ack_closure = this;
  lo.max_pending = int64_t(options.window) * 2;
  std::string error;
  link = NatsLink::Connect(lo, &error);
  if (!link) {
    SetFailure(error);
    return false;
  }
  return true;
}

// Starts a session: the stream exists and the relay continues right after its last
// message, whatever the checkpoint says (the stream is what consumers see).
bool NatsRelay::Impl::Resync() {
  StreamSpec spec{options.stream, options.subject_prefix, options.replicas, options.duplicate_window, std::chrono::seconds{0}};
  uint64_t last_seq = 0, msgs = 0;
  std::string error;
  if (!EnsureStream(link->js(), spec, &last_seq, &msgs, &error)) {
    SetFailure(error);
    return false;
  }
  uint64_t last_position = 0;
  if (last_seq > 0 && msgs == 0) {
    // Purged or aged out: nothing to read the position from; trust the checkpoint.
    last_position = acked.load();
  } else if (last_seq > 0) {
    natsMsg* m = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s = js_GetMsg(&m, link->js(), options.stream.c_str(), last_seq, nullptr, &jerr);
    if (s != NATS_OK) {
      SetFailure("reading the stream's last message: " + NatsErrorText(s, jerr));
      return false;
    }
    last_position = PositionHeader(m);
    natsMsg_Destroy(m);
    if (last_position == 0) {
      SetFailure("stream " + options.stream + " holds a message without " + kPositionHeader +
                 "; it is not this relay's stream");
      return false;
    }
  }
  if (last_position > store.CommittedPosition()) {
    SetFailure("stream " + options.stream + " ends at position " + std::to_string(last_position) +
               ", beyond this store's " + std::to_string(store.CommittedPosition()) +
               ": it belongs to another store; not publishing");
    return false;
  }
  if (last_position < acked.load()) {
    StoreLog()->warn("nats relay: stream {} ends at position {} but {} were acknowledged; "
                     "publishing the lost tail again from the log",
                     options.stream, last_position, acked.load());
  }
  std::lock_guard lock(mu);
  session_js = link->js();
  inflight.clear();
  pending = 0;
  next = last_position + 1;
  base_position = last_position;
  base_seq = last_seq;
  session_failed = false;
  failure.clear();
  acked.store(last_position);
  resyncs.fetch_add(1);
  return true;
}

void NatsRelay::Impl::Publish() {
  for (;;) {
    uint64_t from, expected_last_seq;
    size_t room;
    {
      std::lock_guard lock(mu);
      if (session_failed) return;
      room = options.window - std::min(options.window, inflight.size());
      from = next;
      expected_last_seq = base_seq + (from - 1 - base_position);
    }
    const uint64_t committed = store.CommittedPosition();
    if (room == 0 || from > committed || !link->connected()) return;
    auto batch = store.ReadLog(from, std::min<uint64_t>(room, committed - from + 1));
    if (!batch) {
      SetFailure("reading the log: " + batch.error().message);
      return;
    }
    for (const domain::Envelope& env : *batch) {
      std::string why;
      auto payload = Payload(env, &why);
      if (!payload) {
        // A poison event stops the relay where it is; it is never skipped.
        SetFailure(why);
        poisoned.store(true);
        std::lock_guard lock(mu);
        session_failed = true;
        return;
      }
      const std::string position = std::to_string(env.position);
      const std::string subject = options.subject_prefix + "." + env.type;
      natsMsg* m = nullptr;
      natsStatus s = natsMsg_Create(&m, subject.c_str(), nullptr, payload->data(), int(payload->size()));
      if (s == NATS_OK) s = natsMsgHeader_Set(m, kPositionHeader, position.c_str());
      if (s == NATS_OK) s = natsMsgHeader_Set(m, kStreamHeader, env.stream.c_str());
      if (s == NATS_OK) s = natsMsgHeader_Set(m, kTypeHeader, env.type.c_str());
      if (s == NATS_OK) s = natsMsgHeader_Set(m, kSchemaHeader, std::to_string(env.schema_version).c_str());
      jsPubOptions po;
      jsPubOptions_Init(&po);
      po.MsgId = position.c_str();
      po.MaxWait = options.ack_timeout.count();
      // 0 means "not set" to the library: the first message into an empty stream goes
      // without, and its ack's sequence is checked instead.
      po.ExpectLastSeq = expected_last_seq;
      {
        std::lock_guard lock(mu);
        inflight.push_back({env.position, SlotState::kPending});
        ++pending;
        next = env.position + 1;
      }
      if (s == NATS_OK) s = js_PublishMsgAsync(link->js(), &m, &po);
      natsMsg_Destroy(m);  // no-op when the library took it
      if (s != NATS_OK) {
        std::lock_guard lock(mu);
        inflight.pop_back();
        --pending;
        session_failed = true;
        failure = "publishing: " + NatsErrorText(s);
        return;
      }
      ++expected_last_seq;
    }
  }
}

void NatsRelay::Impl::OnAck(jsCtx* js, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure) {
  auto* self = static_cast<Impl*>(closure);
  const uint64_t position = PositionHeader(msg);
  {
    std::lock_guard lock(self->mu);
    if (js == self->session_js && !self->inflight.empty() && position >= self->inflight.front().position &&
        position - self->inflight.front().position < self->inflight.size()) {
      Slot& slot = self->inflight[position - self->inflight.front().position];
      if (slot.state == SlotState::kPending) {
        --self->pending;
        const uint64_t expected_seq = self->base_seq + (position - self->base_position);
        if (pae != nullptr) {
          slot.state = SlotState::kFailed;
          self->session_failed = true;
          self->failure = "position " + std::to_string(position) + ": " +
                          (pae->ErrText != nullptr ? std::string(pae->ErrText) : NatsErrorText(pae->Err, pae->ErrCode));
        } else if (pa == nullptr || pa->Sequence != expected_seq) {
          // Stored elsewhere than right after its predecessor: resync from the stream.
          slot.state = SlotState::kFailed;
          self->session_failed = true;
          self->failure = "position " + std::to_string(position) + " got stream sequence " +
                          std::to_string(pa ? pa->Sequence : 0) + ", expected " + std::to_string(expected_seq);
        } else {
          slot.state = SlotState::kAcked;
          self->published.fetch_add(1, std::memory_order_relaxed);
        }
        while (!self->inflight.empty() && self->inflight.front().state == SlotState::kAcked) {
          self->acked.store(self->inflight.front().position, std::memory_order_release);
          self->inflight.pop_front();
        }
      }
    }
  }
  natsMsg_Destroy(msg);
  self->wake->Notify();
}

// After a failure: waits until every publish of the session has its answer (ack, error
// or timeout), so that nothing of it can land after the resync reads the stream's end.
// False when the answers do not come (the connection is then dropped).
bool NatsRelay::Impl::DrainFailedSession() {
  const auto deadline = std::chrono::steady_clock::now() + options.ack_timeout + std::chrono::seconds(2);
  for (;;) {
    uint64_t seen = wake->Ticks();
    {
      std::lock_guard lock(mu);
      if (pending == 0) {
        StoreLog()->info("nats relay: resyncing after {} (acknowledged up to {})", failure, acked.load());
        return true;
      }
    }
    if (std::chrono::steady_clock::now() > deadline || stopping.load()) return false;
    connected.store(link->connected());
    wake->WaitFor(seen, std::chrono::milliseconds(100));
  }
}

void NatsRelay::Impl::PersistCheckpoint(bool force) {
  const uint64_t a = acked.load();
  const auto now = std::chrono::steady_clock::now();
  if (a == persisted || (!force && now - persisted_at < options.checkpoint_every)) return;
  if (auto r = store.PutCheckpoint(options.checkpoint_name, a); !r) {
    StoreLog()->error("nats relay: cannot write its checkpoint: {}", r.error().message);
    return;
  }
  persisted = a;
  persisted_at = now;
}

void NatsRelay::Impl::Run() {
  while (!stopping.load()) {
    if (!link && !Connect()) {
      connected.store(false);
      Backoff();
      continue;
    }
    connected.store(link->connected());
    if (!in_session) {
      if (!link->connected() || !Resync()) {
        Backoff();
        continue;
      }
      in_session = true;
      backoff = std::chrono::milliseconds(100);
    }
    bool failed;
    {
      std::lock_guard lock(mu);
      failed = session_failed;
    }
    if (failed) {
      const bool drained = DrainFailedSession();
      if (stopping.load()) break;
      if (poisoned.load()) {
        // Stays stopped at the poison event (failure() says where) until restarted.
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        continue;
      }
      if (!drained) {
        StoreLog()->warn("nats relay: publishes of a failed session got no answer; reconnecting");
        {
          std::lock_guard lock(mu);
          session_js = nullptr;
        }
        link.reset();
      }
      in_session = false;
      Backoff();
      continue;
    }
    const uint64_t seen = wake->Ticks();
    Publish();
    PersistCheckpoint(false);
    wake->WaitFor(seen, std::chrono::milliseconds(50));
  }
  if (link) {
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = options.ack_timeout.count();
    js_PublishAsyncComplete(link->js(), &po);
  }
  {
    std::lock_guard lock(mu);
    session_js = nullptr;
  }
  PersistCheckpoint(true);
  link.reset();
}

std::unique_ptr<NatsRelay> NatsRelay::Start(EventStore& store, RelayOptions options) {
  if (options.window == 0) options.window = 1;
  std::unique_ptr<NatsRelay> relay(new NatsRelay());
  relay->impl_ = std::make_unique<Impl>(store, std::move(options));
  Impl& impl = *relay->impl_;
  if (auto cp = store.GetCheckpoint(impl.options.checkpoint_name); cp) {
    impl.acked.store(*cp);
    impl.persisted = *cp;
  }
  std::weak_ptr<Wakeup> weak = impl.wake;
  store.AddCommitListener([weak](uint64_t) {
    if (auto w = weak.lock()) w->Notify();
  });
  impl.thread = std::thread([&impl] { impl.Run(); });
  return relay;
}

NatsRelay::~NatsRelay() { Stop(); }

void NatsRelay::Stop() {
  if (!impl_ || !impl_->thread.joinable()) return;
  impl_->stopping.store(true);
  impl_->wake->Notify();
  impl_->thread.join();
}

RelayStatus NatsRelay::Status() const {
  RelayStatus s;
  s.acked_position = impl_->acked.load();
  s.published = impl_->published.load();
  s.resyncs = impl_->resyncs.load();
  s.connected = impl_->connected.load();
  std::lock_guard lock(impl_->mu);
  s.failure = impl_->failure;
  return s;
}

uint64_t NatsRelay::Lag() const {
  const uint64_t committed = impl_->store.CommittedPosition();
  const uint64_t a = impl_->acked.load();
  return committed > a ? committed - a : 0;
}

}  // namespace caseledger::eventstore
