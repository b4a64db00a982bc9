// Private to eventstore/: one cnats connection with its JetStream context, set up the
// way the relay and the replica feed both want it (reconnect forever, short waits), and
// the stream definition the relay publishes into.
#pragma once

#include <nats/nats.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace caseledger::eventstore {

struct NatsLinkOptions {
  std::vector<std::string> urls;  // nats://host:port
  std::string name;               // connection name shown by the server
  std::chrono::milliseconds api_wait{5000};
  // Async publish acknowledgements (the relay); null for a consumer.
  jsPubAckHandler ack_handler = nullptr;
  void* ack_closure = nullptr;
  int64_t max_pending = 0;  // async publishes in flight the library allows (0: its default)
};

class NatsLink {
 public:
  // Connects to the first reachable URL; nullptr with `error` set when none answers.
  // Once connected the library reconnects by itself (forever, 250 ms apart plus jitter),
  // buffering publishes meanwhile.
  static std::unique_ptr<NatsLink> Connect(const NatsLinkOptions& options, std::string* error);
  ~NatsLink();
  NatsLink(const NatsLink&) = delete;
  NatsLink& operator=(const NatsLink&) = delete;

  bool connected() const;
  natsConnection* connection() const { return nc_; }
  jsCtx* js() const { return js_; }

 private:
  NatsLink() = default;
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
};

// Waits `backoff` (cut short once `stopping` is set), then doubles it, up to `max`: the
// reconnect and retry pause of the relay, the replica feed and the standby's two ends.
void SleepBackoff(const std::atomic<bool>& stopping, std::chrono::milliseconds& backoff,
                  std::chrono::milliseconds max);

// "<status text> (JetStream error N)".
std::string NatsErrorText(natsStatus s, jsErrCode e = static_cast<jsErrCode>(0));

struct StreamSpec {
  std::string name;            // "CASELEDGER"
  std::string subject_prefix;  // "caseledger.events": subjects "<prefix>.<type>"
  int replicas = 1;
  std::chrono::seconds duplicate_window{3600};
  std::chrono::seconds max_age{0};  // messages older than this are dropped; 0: kept
};

// Creates the stream if it does not exist (file storage, limits retention, no limits, the
// given replicas and duplicate window); an existing stream is used as it is. Fills
// `last_seq` and `msgs` from the stream's state.
bool EnsureStream(jsCtx* js, const StreamSpec& spec, uint64_t* last_seq, uint64_t* msgs,
                  std::string* error);

// The position header of a relayed message, 0 when absent or malformed.
uint64_t PositionHeader(natsMsg* msg);
inline constexpr char kPositionHeader[] = "Caseledger-Position";
inline constexpr char kStreamHeader[] = "Caseledger-Stream";
inline constexpr char kTypeHeader[] = "Caseledger-Type";
inline constexpr char kSchemaHeader[] = "Caseledger-Schema-Version";

}  // namespace caseledger::eventstore
