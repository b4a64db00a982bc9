// The primary's side of a warm standby (standby.h, docs/standby.md).
#include "eventstore/nats_link.h"
#include "eventstore/standby.h"
#include "eventstore/standby_frame.h"
#include "eventstore/standby_seed.h"
#include "eventstore/store_logger.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace caseledger::eventstore {
namespace {

constexpr char kSequenceHeader[] = "Caseledger-Standby-Sequence";  // "<first>-<end>"
constexpr char kPartHeader[] = "Caseledger-Standby-Part";          // "<index>/<count>"
constexpr char kEpochHeader[] = "Caseledger-Standby-Epoch";
constexpr char kSeedHeader[] = "Caseledger-Standby-Seed";          // a seed's part: "<sequence>"

std::string Header(natsMsg* m, const char* name) {
  const char* v = nullptr;
  if (natsMsgHeader_Get(m, name, &v) != NATS_OK || v == nullptr) return "";
  return v;
}

uint64_t Number(const std::string& text) {
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return 0;
    v = v * 10 + uint64_t(c - '0');
  }
  return v;
}

}  // namespace

class StandbyShipper::Impl {
 public:
  Impl(EventStore& s, StandbyShipOptions o) : store(s), options(std::move(o)) {}

  void Run();
  bool Resync();
  // Ships what the WAL holds beyond `next`; false when the session failed.
  bool ShipOnce();
  // Publishes one frame's messages; false when the session failed.
  bool Publish(const Frame& frame);
  void SetFailure(std::string why);
  void Backoff();
  void Notify() {
    {
      std::lock_guard lock(mu);
      ++ticks;
    }
    cv.notify_all();
  }

  EventStore& store;
  const StandbyShipOptions options;
  std::thread thread;
  std::atomic<bool> stopping{false};
  std::chrono::milliseconds backoff{100};
  std::unique_ptr<NatsLink> link;
  bool in_session = false;
  bool stream_empty = false;
  std::unique_ptr<SeedReader> seed;  // while an empty stream gets a snapshot first
  uint64_t seed_parts = 0;
  uint64_t expected_last_seq = 0;
  std::chrono::steady_clock::time_point released_at;

  mutable std::mutex mu;
  mutable std::condition_variable cv;  // commits (ticks) and shipped positions
  uint64_t ticks = 0;
  std::string failure;
  std::atomic<uint64_t> next{1};
  std::atomic<uint64_t> shipped_position{0};
  std::atomic<uint64_t> frames{0};
  std::atomic<uint64_t> fenced_by{0};
  std::atomic<bool> connected{false};
  // The store's commit listener cannot be removed: it reaches the shipper through this,
  // cleared on Stop().
  std::shared_ptr<std::pair<std::mutex, Impl*>> alive = std::make_shared<std::pair<std::mutex, Impl*>>();
};

void StandbyShipper::Impl::SetFailure(std::string why) {
  std::lock_guard lock(mu);
  if (failure != why) StoreLog()->warn("standby shipper: {}", why);
  failure = std::move(why);
}

void StandbyShipper::Impl::Backoff() { SleepBackoff(stopping, backoff, options.max_backoff); }

// Continues after the stream's last message, whatever was shipped before: the stream is
// what the standby reads. A fence there (a standby was promoted) fences this store.
bool StandbyShipper::Impl::Resync() {
  StreamSpec spec{options.stream, options.subject, options.replicas, std::chrono::seconds(120), options.max_age};
  uint64_t last_seq = 0, msgs = 0;
  std::string error;
  if (!EnsureStream(link->js(), spec, &last_seq, &msgs, &error)) {
    SetFailure(error);
    return false;
  }
  const uint64_t own_epoch = store.Role().epoch;
  uint64_t resume = 1;
  stream_empty = msgs == 0;
  if (msgs > 0) {
    natsMsg* m = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s = js_GetMsg(&m, link->js(), options.stream.c_str(), last_seq, nullptr, &jerr);
    if (s != NATS_OK) {
      SetFailure("reading the standby stream's last message: " + NatsErrorText(s, jerr));
      return false;
    }
    const std::string subject = natsMsg_GetSubject(m);
    const std::string sequence = Header(m, kSequenceHeader), part = Header(m, kPartHeader);
    const std::string seeding = Header(m, kSeedHeader);
    const uint64_t epoch = Number(Header(m, kEpochHeader));
    std::string payload(natsMsg_GetData(m), size_t(natsMsg_GetDataLength(m)));
    natsMsg_Destroy(m);
    if (subject == options.subject + ".fence") {
      std::string why;
      auto fence = DecodeFrame(payload, [this](std::string_view b) { return store.ShipMac(b); }, &why);
      if (!fence || fence->kind != FrameKind::kFence) {
        SetFailure("the standby stream ends in a fence that does not verify (" + why + "); not shipping");
        return false;
      }
      if (fence->shipped.epoch > own_epoch) {
        if (auto r = store.Fence(fence->shipped.epoch); !r) StoreLog()->error("standby shipper: {}", r.error().message);
        fenced_by.store(fence->shipped.epoch);
        SetFailure("a standby was promoted at epoch " + std::to_string(fence->shipped.epoch) +
                   ": this primary is fenced and ships no more");
        return false;
      }
      // A fence of an older epoch (this primary's own promotion): ship after it, from the
      // WAL's start. The standby must then be a new one, seeded from this store.
      stream_empty = true;
    } else if (!seeding.empty() && sequence.empty()) {
      SetFailure("the seed of stream " + options.stream + " was interrupted: purge the stream and start the "
                 "standby again from an empty directory (docs/standby.md)");
      return false;
    } else {
      const auto dash = sequence.find('-');
      const uint64_t first = dash == std::string::npos ? 0 : Number(sequence.substr(0, dash));
      const uint64_t end = dash == std::string::npos ? 0 : Number(sequence.substr(dash + 1));
      if (first == 0 || end < first) {
        SetFailure("stream " + options.stream + " holds a message without " + kSequenceHeader + "; not this shipper's stream");
        return false;
      }
      if (epoch != own_epoch) {
        SetFailure("stream " + options.stream + " holds the log of a primary of epoch " + std::to_string(epoch) +
                   ", this one is of epoch " + std::to_string(own_epoch) + "; not shipping into it");
        return false;
      }
      // A frame whose last part is missing (the shipper stopped in the middle) is sent again.
      const auto slash = part.find('/');
      const bool whole = part.empty() ||
                         (slash != std::string::npos && Number(part.substr(0, slash)) + 1 == Number(part.substr(slash + 1)));
      resume = whole ? end : first;
      if (resume > store.LatestSequence() + 1) {
        SetFailure("stream " + options.stream + " ends at sequence " + std::to_string(end) + ", beyond this store's " +
                   std::to_string(store.LatestSequence()) + ": it belongs to another store; not shipping");
        return false;
      }
    }
  }
  seed.reset();
  if (stream_empty) {
    // A new standby stream starts with a snapshot of the store; the WAL continues after it.
    auto reader = BeginSeed(store);
    if (!reader) {
      SetFailure("a seed for the standby: " + reader.error().message);
      return false;
    }
    seed = std::move(*reader);
    resume = seed->sequence() + 1;
    StoreLog()->info("standby shipper: seeding stream {} with a snapshot at sequence {}", options.stream, seed->sequence());
  }
  next.store(resume);
  expected_last_seq = last_seq;
  {
    std::lock_guard lock(mu);
    failure.clear();
  }
  return true;
}

bool StandbyShipper::Impl::ShipOnce() {
  const size_t max_payload = size_t(std::max<int64_t>(natsConnection_GetMaxPayload(link->connection()), 4096));
  const size_t max_message = std::min(options.max_frame_bytes, max_payload - 1024);
  if (seed) {
    auto part = seed->Next(max_message);
    if (!part) {
      SetFailure(part.error().message);
      return false;
    }
    if (!Publish(Frame{FrameKind::kSeed, std::move(*part)})) return false;
    if (seed->done()) {
      StoreLog()->info("standby shipper: seed at sequence {} shipped", seed->sequence());
      seed.reset();
    }
    return true;
  }
  const uint64_t from = next.load();
  if (from > store.LatestSequence()) return true;
  auto read = store.ReadWalSince(from, max_message);
  if (!read) {
    SetFailure(read.error().message + (read.error().code == StoreErrorCode::kNotFound
                                           ? ": the standby cannot catch up; purge the stream and start it from an empty directory (a new seed)"
                                           : ""));
    return false;
  }
  if (read->batches.empty()) return true;
  if (read->first_sequence != from) {
    if (!stream_empty) {
      SetFailure("the write-ahead log no longer holds sequence " + std::to_string(from) +
                 " (it starts at " + std::to_string(read->first_sequence) + "): purge the stream and start the standby from an "
                 "empty directory (a new seed)");
      return false;
    }
    StoreLog()->warn("standby shipper: the write-ahead log starts at sequence {}, not {}: a standby must be seeded "
                     "from a backup of this store taken after that",
                     read->first_sequence, from);
  }
  return Publish(Frame{FrameKind::kBatches, std::move(*read)});
}

bool StandbyShipper::Impl::Publish(const Frame& frame) {
  const size_t max_payload = size_t(std::max<int64_t>(natsConnection_GetMaxPayload(link->connection()), 4096));
  const size_t max_message = std::min(options.max_frame_bytes, max_payload - 1024);
  auto bytes = EncodeFrame(frame, [this](std::string_view b) { return store.ShipMac(b); });
  if (!bytes) {
    SetFailure("the store has no master key: frames cannot be authenticated");
    return false;
  }
  const ShippedBatches& s = frame.shipped;
  const std::vector<std::string> parts = SplitFrame(*bytes, max_message);
  const std::string subject = options.subject + ".log";
  // A seed's parts carry no sequence range but the last one (the WAL continues after it).
  const bool seed_part = frame.kind == FrameKind::kSeed && s.end_sequence == 0;
  const std::string sequence =
      seed_part ? "" : std::to_string(s.first_sequence) + "-" + std::to_string(s.end_sequence);
  const std::string epoch = std::to_string(s.epoch);
  const std::string seed_id = frame.kind == FrameKind::kSeed ? std::to_string(s.first_sequence) : "";
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string part = std::to_string(i) + "/" + std::to_string(parts.size());
    const std::string msg_id =
        "e" + epoch + "-" + (seed_part ? "seed" + seed_id + "-" + std::to_string(++seed_parts) : sequence) + "-" + part;
    natsMsg* m = nullptr;
    natsStatus st = natsMsg_Create(&m, subject.c_str(), nullptr, parts[i].data(), int(parts[i].size()));
    if (st == NATS_OK && !sequence.empty()) st = natsMsgHeader_Set(m, kSequenceHeader, sequence.c_str());
    if (st == NATS_OK && !seed_id.empty()) st = natsMsgHeader_Set(m, kSeedHeader, seed_id.c_str());
    if (st == NATS_OK) st = natsMsgHeader_Set(m, kEpochHeader, epoch.c_str());
    if (st == NATS_OK && parts.size() > 1) st = natsMsgHeader_Set(m, kPartHeader, part.c_str());
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = msg_id.c_str();
    po.MaxWait = options.api_wait.count();
    po.ExpectLastSeq = expected_last_seq;  // 0 (an empty stream): not set
    jsPubAck* pa = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    if (st == NATS_OK) st = js_PublishMsg(&pa, link->js(), m, &po, &jerr);
    natsMsg_Destroy(m);
    if (st != NATS_OK) {
      SetFailure("publishing sequences " + sequence + ": " + NatsErrorText(st, jerr));
      return false;
    }
    const bool duplicate = pa->Duplicate;
    expected_last_seq = pa->Sequence;
    jsPubAck_Destroy(pa);
    if (duplicate) {
      SetFailure("JetStream took sequences " + sequence + " for a duplicate; resyncing");
      return false;
    }
  }
  stream_empty = false;
  if (seed_part) return true;
  next.store(s.end_sequence);
  frames.fetch_add(1, std::memory_order_relaxed);
  if (s.primary_committed > shipped_position.load()) {
    {
      std::lock_guard lock(mu);
      shipped_position.store(s.primary_committed);
    }
    cv.notify_all();
  }
  return true;
}

void StandbyShipper::Impl::Run() {
  while (!stopping.load()) {
    if (fenced_by.load() > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    if (!link) {
      NatsLinkOptions lo;
      lo.urls = options.urls;
      lo.name = "caseledger-standby-shipper";
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
    if (!in_session) {
      if (!link->connected() || !Resync()) {
        Backoff();
        continue;
      }
      in_session = true;
      backoff = std::chrono::milliseconds(100);
    }
    uint64_t seen;
    {
      std::lock_guard lock(mu);
      seen = ticks;
    }
    if (!ShipOnce()) {
      in_session = false;
      Backoff();
      continue;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now - released_at > options.release_every) {
      store.ReleaseWalBefore(next.load());
      released_at = now;
    }
    if (next.load() <= store.LatestSequence()) continue;  // more to ship
    // Whatever the WAL holds is shipped: the committed position is in the stream.
    const uint64_t committed = store.CommittedPosition();
    if (committed > shipped_position.load() && next.load() > store.LatestSequence()) {
      {
        std::lock_guard lock(mu);
        shipped_position.store(std::max(shipped_position.load(), committed));
      }
      cv.notify_all();
    }
    std::unique_lock lock(mu);
    cv.wait_for(lock, std::chrono::milliseconds(50), [&] { return ticks != seen || stopping.load(); });
  }
  link.reset();
}

std::unique_ptr<StandbyShipper> StandbyShipper::Start(EventStore& store, StandbyShipOptions options) {
  std::unique_ptr<StandbyShipper> shipper(new StandbyShipper());
  shipper->impl_ = std::make_unique<Impl>(store, std::move(options));
  Impl& impl = *shipper->impl_;
  impl.alive->second = &impl;
  store.AddCommitListener([alive = impl.alive](uint64_t) {
    std::lock_guard lock(alive->first);
    if (alive->second != nullptr) alive->second->Notify();
  });
  impl.released_at = std::chrono::steady_clock::now();
  impl.thread = std::thread([&impl] { impl.Run(); });
  return shipper;
}

StandbyShipper::~StandbyShipper() { Stop(); }

void StandbyShipper::Stop() {
  if (!impl_ || !impl_->thread.joinable()) return;
  impl_->stopping.store(true);
  impl_->Notify();
  impl_->thread.join();
  std::lock_guard lock(impl_->alive->first);
  impl_->alive->second = nullptr;
}

StandbyShipStatus StandbyShipper::Status() const {
  StandbyShipStatus s;
  s.shipped_position = impl_->shipped_position.load();
  s.next_sequence = impl_->next.load();
  s.frames = impl_->frames.load();
  s.connected = impl_->connected.load();
  s.fenced_by = impl_->fenced_by.load();
  std::lock_guard lock(impl_->mu);
  s.failure = impl_->failure;
  return s;
}

uint64_t StandbyShipper::Lag() const {
  const uint64_t committed = impl_->store.CommittedPosition();
  const uint64_t shipped = impl_->shipped_position.load();
  return committed > shipped ? committed - shipped : 0;
}

bool StandbyShipper::WaitShipped(uint64_t position, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout, [&] { return impl_->shipped_position.load() >= position; });
}

bool PublishFence(const EventStore& store, const StandbyStreamOptions& options, uint64_t epoch,
                  std::chrono::milliseconds timeout, std::string* why) {
  NatsLinkOptions lo;
  lo.urls = options.urls;
  lo.name = "caseledger-standby-fence";
  lo.api_wait = timeout;
  auto link = NatsLink::Connect(lo, why);
  if (!link) return false;
  Frame fence;
  fence.kind = FrameKind::kFence;
  fence.shipped.epoch = epoch;
  fence.shipped.primary_committed = store.CommittedPosition();
  auto bytes = EncodeFrame(fence, [&store](std::string_view b) { return store.ShipMac(b); });
  if (!bytes) {
    *why = "no master key: the fence cannot be authenticated";
    return false;
  }
  const std::string subject = options.subject + ".fence";
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = timeout.count();
  jsPubAck* pa = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_Publish(&pa, link->js(), subject.c_str(), bytes->data(), int(bytes->size()), &po, &jerr);
  if (s != NATS_OK) {
    *why = "publishing the fence: " + NatsErrorText(s, jerr);
    return false;
  }
  jsPubAck_Destroy(pa);
  return true;
}

}  // namespace caseledger::eventstore
