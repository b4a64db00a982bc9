#include "eventstore/nats_link.h"

#include "eventstore/replica_message.h"

#include <algorithm>
#include <thread>

namespace caseledger::eventstore {

void SleepBackoff(const std::atomic<bool>& stopping, std::chrono::milliseconds& backoff,
                  std::chrono::milliseconds max) {
  const auto until = std::chrono::steady_clock::now() + backoff;
  while (!stopping.load() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  backoff = std::min(backoff * 2, max);
}

std::string NatsErrorText(natsStatus s, jsErrCode e) {
  std::string text = natsStatus_GetText(s);
  if (const char* last = nats_GetLastError(nullptr); last != nullptr && *last != '\0') {
    text.append(": ").append(last);
  }
  if (e != 0) text.append(" (JetStream error ").append(std::to_string(int(e))).append(")");
  return text;
}

std::unique_ptr<NatsLink> NatsLink::Connect(const NatsLinkOptions& options, std::string* error) {
  natsOptions* o = nullptr;
  if (natsOptions_Create(&o) != NATS_OK) {
    *error = "cannot create NATS options";
    return nullptr;
  }
  std::vector<const char*> urls;
  for (const auto& u : options.urls) urls.push_back(u.c_str());
  natsStatus s = natsOptions_SetServers(o, urls.data(), int(urls.size()));
  if (s == NATS_OK) s = natsOptions_SetName(o, options.name.c_str());
  if (s == NATS_OK) s = natsOptions_SetTimeout(o, 2000);
  // Reconnect forever: a NATS outage must never end the relay, only pause it.
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(o, -1);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(o, 250);
  if (s == NATS_OK) s = natsOptions_SetReconnectJitter(o, 100, 1000);
  // A dead server whose socket stays open (a partition) shows within ~3 s.
  if (s == NATS_OK) s = natsOptions_SetPingInterval(o, 1000);
  if (s == NATS_OK) s = natsOptions_SetMaxPingsOut(o, 3);
  if (s == NATS_OK) s = natsOptions_SetReconnectBufSize(o, 16 << 20);
  std::unique_ptr<NatsLink> link(new NatsLink());
  if (s == NATS_OK) s = natsConnection_Connect(&link->nc_, o);
  natsOptions_Destroy(o);
  if (s != NATS_OK) {
    *error = "cannot connect to NATS: " + NatsErrorText(s);
    return nullptr;
  }
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = options.api_wait.count();
  jo.PublishAsync.AckHandler = options.ack_handler;
  jo.PublishAsync.AckHandlerClosure = options.ack_closure;
  if (options.max_pending > 0) jo.PublishAsync.MaxPending = options.max_pending;
  s = natsConnection_JetStream(&link->js_, link->nc_, &jo);
  if (s != NATS_OK) {
    *error = "cannot open a JetStream context: " + NatsErrorText(s);
    return nullptr;
  }
  return link;
}

NatsLink::~NatsLink() {
  // Closing first stops the library's threads from calling back into a context that is
  // being destroyed.
  if (nc_ != nullptr) natsConnection_Close(nc_);
  if (js_ != nullptr) jsCtx_Destroy(js_);
  if (nc_ != nullptr) natsConnection_Destroy(nc_);
}

bool NatsLink::connected() const {
  return nc_ != nullptr && natsConnection_Status(nc_) == NATS_CONN_STATUS_CONNECTED;
}

bool EnsureStream(jsCtx* js, const StreamSpec& spec, uint64_t* last_seq, uint64_t* msgs,
                  std::string* error) {
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&si, js, spec.name.c_str(), nullptr, &jerr);
  if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr) {
    const std::string subjects = spec.subject_prefix + ".>";
    const char* subject_list[] = {subjects.c_str()};
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = spec.name.c_str();
    cfg.Subjects = subject_list;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    cfg.Retention = js_LimitsPolicy;
    cfg.Replicas = spec.replicas;
    cfg.Duplicates = int64_t(spec.duplicate_window.count()) * 1'000'000'000;
    cfg.MaxAge = int64_t(spec.max_age.count()) * 1'000'000'000;
    jerr = static_cast<jsErrCode>(0);
    s = js_AddStream(&si, js, &cfg, nullptr, &jerr);
  }
  if (s != NATS_OK) {
    *error = "stream " + spec.name + ": " + NatsErrorText(s, jerr);
    return false;
  }
  *last_seq = si->State.LastSeq;
  *msgs = si->State.Msgs;
  jsStreamInfo_Destroy(si);
  return true;
}

uint64_t PositionHeader(natsMsg* msg) {
  const char* value = nullptr;
  if (natsMsgHeader_Get(msg, kPositionHeader, &value) != NATS_OK || value == nullptr) return 0;
  return ParsePositionHeader(value);
}

}  // namespace caseledger::eventstore
