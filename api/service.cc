#include "api/service.h"

#include "api/api_context.h"
#include "api/api_logger.h"
#include "api/backup_request.h"
#include "api/control_socket.h"
#include "api/grant_table.h"
#include "api/person_cache.h"
#include "api/jwks_source.h"
#include "api/jwt.h"
#include "api/metrics.h"
#include "api/replica_routes.h"
#include "api/routes.h"
#include "api/school_registry.h"
#include "api/position_waiters.h"
#include "api/sse.h"
#include "api/static_assets.h"
#include "api/storage_health.h"
#include "api/token_cache.h"
#include "eventstore/access_log.h"
#include "eventstore/event_store.h"
#include "replay/live_views.h"
#include "replay/rules_log.h"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>

namespace caseledger::api {
namespace {

domain::Timestamp SystemNow() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return domain::Timestamp{std::chrono::duration_cast<std::chrono::microseconds>(now).count()};
}

}  // namespace

struct Service::State {
  ServiceOptions options;
  std::string key_path;
  std::optional<JwtKey> key;
  std::vector<JwtSigner> signers;  // the own key first, then external ones
  std::unique_ptr<VerifiedTokens> tokens;  // over `signers`, then also the provider's fetched keys
  std::unique_ptr<eventstore::EventStore> store;
  std::unique_ptr<eventstore::AccessLog> access_log;
  std::unique_ptr<GrantTable> grants;
  std::unique_ptr<SchoolRegistry> schools;
  PersonCache people;
  std::unique_ptr<eventstore::NatsReplicaFeed> feed;  // outlives the views reading it
  // Reads waiting for a position, told by the views when they publish (outlive both).
  PositionWaiters waiters;
  std::atomic<replay::LiveViews*> live{nullptr};  // `views`, once started
  std::unique_ptr<replay::LiveViews> views;
  std::unique_ptr<eventstore::NatsRelay> relay;
  SseHub sse;
  HttpMetrics metrics;
  ApiContext ctx;
  Router router;
  std::unique_ptr<HttpServer> server;
  std::unique_ptr<JwksSource> jwks;  // stopped before `tokens` goes
  uint16_t port = 0;
  std::unique_ptr<ControlSocket> control;  // DATA/control.sock; stopped before the stores close
};

namespace {

// The relay's or the replica feed's figures on /metrics (and the relay started).
void StartNats(const ServiceOptions& options, eventstore::EventStore& store,
               std::unique_ptr<eventstore::NatsRelay>& relay_out, const eventstore::NatsReplicaFeed* feed,
               HttpMetrics& metrics) {
  if (options.relay && !options.replica) {
    relay_out = eventstore::NatsRelay::Start(store, *options.relay);
    const eventstore::NatsRelay* relay = relay_out.get();
    metrics.AddGauge("caseledger_relay_lag_events", "Committed events not yet acknowledged by JetStream.",
                       [relay] { return double(relay->Lag()); });
    metrics.AddGauge("caseledger_relay_acked_position", "Every position up to this one is in the JetStream stream.",
                       [relay] { return double(relay->Status().acked_position); });
    metrics.AddGauge("caseledger_relay_connected", "1 while the relay is connected to NATS.",
                       [relay] { return relay->Status().connected ? 1.0 : 0.0; });
    metrics.AddCounter("caseledger_relay_resyncs_total", "Relay sessions started (connects, failures).",
                         [relay] { return double(relay->Status().resyncs); });
  }
  if (feed != nullptr) {
    metrics.AddGauge("caseledger_replica_received_position", "Highest contiguous position received from JetStream.",
                       [feed] { return double(feed->Status().received_position); });
    metrics.AddGauge("caseledger_replica_connected", "1 while the replica is connected to NATS.",
                       [feed] { return feed->Status().connected ? 1.0 : 0.0; });
    metrics.AddCounter("caseledger_replica_duplicates_total", "Relayed messages skipped by position.",
                         [feed] { return double(feed->Status().duplicates); });
  }
}

// A replica's copy of the primary's `users` stream (grants and revocations, public fields
// only), so that the GrantTable over the local log answers as the primary's does. The copy
// keeps the primary's stream versions: a version already held is skipped (redelivery).
bool CopyUsersEvent(eventstore::EventStore& local, const domain::Envelope& e, std::string* why) {
  if (e.stream != domain::kUsersStream) return true;
  eventstore::AppendRequest request;
  request.stream = e.stream;
  request.expected = eventstore::ExpectedVersion::Exactly(e.version - 1);
  request.events.push_back({e.type, e.schema_version, e.body, {}, e.effective_at});
  request.actor = e.actor;
  request.correlation_id = e.correlation_id;
  request.causation_id = e.causation_id;
  auto r = local.Append(request);
  if (r) return true;
  if (r.error().code == eventstore::StoreErrorCode::kWrongExpectedVersion && r.error().current_version >= e.version) {
    return true;
  }
  *why = "copying users event version " + std::to_string(e.version) + ": " + r.error().message;
  return false;
}

// A replica's copy of a rule set the primary adopted, in its local rules stream at the
// primary's stream version (the shipped sets both recorded first are held already and
// skipped); then its views are rebuilt under it, blue-green, as the primary's were.
bool CopyRulesAdoption(eventstore::EventStore& local, replay::LiveViews* views, const domain::Envelope& e,
                       std::string* why) {
  if (e.stream != domain::kRulesStream) return true;
  eventstore::AppendRequest request;
  request.stream = e.stream;
  request.expected = eventstore::ExpectedVersion::Exactly(e.version - 1);
  request.events.push_back({e.type, e.schema_version, e.body, {}, e.effective_at});
  request.actor = e.actor;
  request.correlation_id = e.correlation_id;
  request.causation_id = e.causation_id;
  auto r = local.Append(request);
  if (!r) {
    if (r.error().code == eventstore::StoreErrorCode::kWrongExpectedVersion && r.error().current_version >= e.version) {
      return true;
    }
    *why = "copying rules event version " + std::to_string(e.version) + ": " + r.error().message;
    return false;
  }
  if (views != nullptr) views->Adopt(r->last_position);
  return true;
}

}  // namespace

Service::Service() : state_(std::make_unique<State>()) {}
Service::~Service() = default;

std::unique_ptr<Service> Service::Open(ServiceOptions options, std::string* error) {
  std::unique_ptr<Service> service(new Service());
  State& s = *service->state_;
  s.options = std::move(options);
  std::error_code ec;
  std::filesystem::create_directories(s.options.data_dir, ec);
  if (ec) {
    *error = "cannot create " + s.options.data_dir + ": " + ec.message();
    return nullptr;
  }
  s.key_path = s.options.auth_key_path.empty() ? s.options.data_dir + "/auth.key" : s.options.auth_key_path;
  s.key = s.options.auth_key_path.empty() ? LoadOrCreateKeyFile(s.key_path, error)
                                          : LoadKeyFile(s.key_path, error);
  if (!s.key) return nullptr;

  eventstore::StoreOptions store_options;
  store_options.path = s.options.data_dir + "/store";
  store_options.min_free_bytes = s.options.min_free_bytes;
  store_options.master_key_path =
      s.options.master_key_path.empty() ? s.options.data_dir + "/master.key" : s.options.master_key_path;
  auto store = eventstore::EventStore::Open(store_options);
  if (!store) {
    *error = "cannot open store " + store_options.path + ": " + store.error().message;
    return nullptr;
  }
  s.store = std::move(*store);
  eventstore::EventStore* st = s.store.get();
  s.metrics.AddGauge("caseledger_committed_position", "Highest durable log position.",
                     [st] { return double(st->CommittedPosition()); });
  s.metrics.AddCounter("caseledger_store_group_commits_total", "Group commits (one WAL sync each).",
                       [st] { return double(st->Stats().group_commits); });
  s.metrics.AddCounter("caseledger_store_appends_total", "Append requests written.",
                       [st] { return double(st->Stats().appends); });
  s.metrics.AddCounter("caseledger_store_events_total", "Events written.",
                       [st] { return double(st->Stats().events); });
  s.metrics.AddCounter("caseledger_store_sync_seconds_total", "Time spent in synced log writes.",
                       [st] { return st->Stats().sync_micros / 1e6; });
  s.metrics.AddGauge("caseledger_store_max_group_size", "Largest group commit so far (requests).",
                     [st] { return double(st->Stats().max_group_size); });

  // Rules come from the log; a store without any gets the shipped sequence once.
  if (s.options.rules) {
    auto recorded = replay::BootstrapRules(*st, *s.options.rules);
    if (!recorded) {
      *error = "cannot record the shipped rules: " + recorded.error().message;
      return nullptr;
    }
  }
  // The read views: caught up before the port opens, then following the log; replaced
  // blue-green when rules are adopted.
  replay::LiveViewsOptions views_options;
  views_options.data_dir = s.options.data_dir;
  views_options.reference = s.options.reference;
  views_options.rebuild_nice = s.options.rebuild_nice;
  views_options.min_free_bytes = s.options.min_free_bytes;
  views_options.memory_budget = s.options.memory_budget;
  SseHub* hub = &s.sse;
  PositionWaiters* waiters = &s.waiters;
  std::atomic<replay::LiveViews*>* serving = &s.live;
  // After every published batch: change streams get their frames at once, and reads
  // waiting for a position (min_position) look again.
  views_options.on_changes = [hub, waiters, serving](const std::vector<projections::ViewChange>& changes) {
    for (const auto& c : changes) hub->Publish(c.view, c.key, c.position);
    if (replay::LiveViews* views = serving->load(std::memory_order_acquire)) waiters->Notify(views->Position());
  };
  eventstore::LogReader* log = st;
  if (s.options.replica) {
    // A replica's views follow JetStream; its local log holds a copy of the primary's
    // users stream (grants) and the shipped rules, nothing else.
    eventstore::ReplicaFeedOptions feed_options = *s.options.replica;
    feed_options.before_apply = [st, &s](const domain::Envelope& e, std::string* why) {
      return CopyUsersEvent(*st, e, why) && CopyRulesAdoption(*st, s.views.get(), e, why);
    };
    s.feed = std::make_unique<eventstore::NatsReplicaFeed>(std::move(feed_options));
    log = s.feed.get();
    views_options.follow = s.feed.get();
  }
  auto live = replay::LiveViews::Open(*st, std::move(views_options));
  if (!live) {
    *error = "cannot open the views: " + live.error().message;
    return nullptr;
  }
  s.views = std::move(*live);
  replay::LiveViews* vr = s.views.get();
  if (s.feed) s.feed->Start(vr->Position(), [vr] { return vr->Position(); });
  s.metrics.AddGauge("caseledger_views_position", "Log position the read views have applied.",
                     [vr] { return double(vr->Position()); });
  s.metrics.AddGauge("caseledger_views_lag_events", "Committed events not yet in the views.",
                     [vr, log] { return double(log->CommittedPosition() - std::min(log->CommittedPosition(), vr->Position())); });
  s.metrics.AddGauge("caseledger_views_stopped", "1 when the views stopped on an event they cannot apply.",
                     [vr] { return vr->failure().empty() ? 0.0 : 1.0; });
  s.metrics.AddGauge("caseledger_views_rebuilding", "1 while views are rebuilt under newly adopted rules.",
                     [vr] { return vr->status().rebuilding ? 1.0 : 0.0; });
  s.metrics.AddCounter("caseledger_views_switches_total", "Rebuilt views switched in since start.",
                       [vr] { return double(vr->status().switches); });
  // Progress of a rebuild under newly adopted rules (zeros when none runs).
  s.metrics.AddGauge("caseledger_views_rebuild_position", "Log position the views rebuild has applied.",
                     [vr] { return double(vr->status().progress.position); });
  s.metrics.AddGauge("caseledger_views_rebuild_target", "Log position the views rebuild runs to.",
                     [vr] { return double(vr->status().progress.target); });
  s.metrics.AddGauge("caseledger_views_rebuild_events_per_second", "Events per second of the views rebuild.",
                     [vr] { return vr->status().progress.events_per_second; });
  s.metrics.AddGauge("caseledger_views_rebuild_eta_seconds", "Seconds the views rebuild still needs at its rate (-1: unknown).",
                     [vr] {
                       auto s = vr->status();
                       return s.rebuilding ? s.progress.eta_seconds : 0.0;
                     });

  StartNats(s.options, *st, s.relay, s.feed.get(), s.metrics);
  eventstore::AccessLogOptions access_options;
  access_options.path = s.options.data_dir + "/access";
  access_options.retention_days = s.options.access_log_retention_days;
  // Half the floor: below the floor commands are refused but reads of personal data, whose
  // records are small, are still recorded and answered; below half they are refused too.
  access_options.min_free_bytes = s.options.min_free_bytes / 2;
  auto access_log = eventstore::AccessLog::Open(access_options);
  if (!access_log) {
    *error = "cannot open the access log " + access_options.path + ": " + access_log.error().message;
    return nullptr;
  }
  s.access_log = std::move(*access_log);
  s.grants = std::make_unique<GrantTable>(*st);
  eventstore::AccessLog* access = s.access_log.get();
  s.metrics.AddGauge("caseledger_access_log_pending_records",
                     "Reads of personal data queued but not yet durable in the access log.",
                     [access] { return double(access->Pending()); });
  s.schools = std::make_unique<SchoolRegistry>(s.options.data_dir + "/schools.csv", s.options.reference);

  s.ctx.store = st;
  s.ctx.grants = s.grants.get();
  s.ctx.schools = s.schools.get();
  s.ctx.people = &s.people;
  s.ctx.access_log = s.access_log.get();
  s.ctx.views = vr;
  s.ctx.sse = &s.sse;
  s.ctx.reference = s.options.reference;
  s.ctx.whatif_memory_budget = s.options.memory_budget / 4;
  s.ctx.metrics = &s.metrics;
  s.ctx.clock = SystemNow;
  s.ctx.new_id = [] { return NewUlid(SystemNow()); };
  AddStorageGauges(s.metrics, s.ctx, s.options.data_dir, s.options.min_free_bytes);
  if (s.options.replica) {
    Router all;
    AddAllRoutes(all, s.ctx);
    s.router = ReplicaRouter(all, "This node serves the read views only; send commands and person queries to the primary" +
                                      (s.options.primary_url.empty() ? std::string(" (the node that writes stream ") + s.options.replica->stream + ")"
                                                                     : " at " + s.options.primary_url) + ".");
  } else {
    AddAllRoutes(s.router, s.ctx);
  }
  AddConsoleRoutes(s.router, EmbeddedAssets(), s.options.console);

  s.signers.push_back(JwtSigner{*s.key, s.options.issuer, s.options.audience});
  for (const JwtSigner& signer : s.options.external_signers) s.signers.push_back(signer);
  s.tokens = std::make_unique<VerifiedTokens>(s.signers);
  VerifiedTokens* tokens = s.tokens.get();
  if (!s.options.jwks_uri.empty()) {
    auto on_keys = [tokens, fixed = s.signers, iss = s.options.idp_issuer,
                    aud = s.options.idp_audience](std::vector<JwtPublicKey> keys) {
      std::vector<JwtSigner> all = fixed;
      for (JwtPublicKey& key : keys) all.push_back(JwtSigner{std::move(key), iss, aud});
      tokens->Replace(std::move(all));
    };
    s.jwks = JwksSource::Start(JwksSourceOptions{s.options.jwks_uri}, std::move(on_keys), error);
    if (!s.jwks) return nullptr;
  }
  JwksSource* jwks = s.jwks.get();
  GrantTable* grants = s.grants.get();
  Authenticator auth = [tokens, grants, jwks](std::string_view bearer, std::string* why) -> std::optional<Principal> {
    auto claims = tokens->Verify(bearer, SystemNow().micros / 1'000'000);
    if (!claims) {
      // Signed by a key we do not know: perhaps the provider rotated; look again (rate
      // limited), and the client's retry passes once the new key is in.
      if (jwks && claims.error() == JwtError::kBadSignature) jwks->RefreshSoon();
      *why = std::string("invalid token: ") + ToString(claims.error());
      return std::nullopt;
    }
    // The token says who; the grants in the log say what they may do, as of now.
    return Principal{claims->subject, grants->For(claims->subject)};
  };
  if (!s.options.replica) {
    // `caseledger backup` reaches the databases this process holds open through here.
    eventstore::AccessLog* access_log = s.access_log.get();
    const std::string data_dir = s.options.data_dir;
    auto backup_mu = std::make_shared<std::mutex>();
    std::string why;
    s.control = ControlSocket::Start(
        data_dir + "/control.sock",
        [st, access_log, data_dir, backup_mu](const std::string& request) {
          std::lock_guard lock(*backup_mu);
          return AnswerControlRequest(*st, access_log, data_dir, request);
        },
        &why);
    if (!s.control) ApiLog()->warn("no control socket, so no online backup: {}", why);
  }
  s.live.store(vr, std::memory_order_release);
  ServerOptions server_options = s.options.server;
  server_options.position_waiters = &s.waiters;
  s.server = std::make_unique<HttpServer>(server_options, s.router, std::move(auth),
                                          [vr] { return vr->Position(); }, &s.metrics);
  auto port = s.server->Start(error);
  if (!port) return nullptr;
  s.port = *port;
  return service;
}

uint16_t Service::port() const { return state_->port; }
const std::string& Service::auth_key_path() const { return state_->key_path; }
eventstore::EventStore& Service::store() { return *state_->store; }
replay::LiveViews& Service::views() { return *state_->views; }
eventstore::AccessLog& Service::access_log() { return *state_->access_log; }
void Service::Run(bool handle_signals) {
  state_->server->Run(handle_signals);
  state_->views->Stop();
  if (state_->relay) state_->relay->Stop();
  if (state_->feed) state_->feed->Stop();
}
const eventstore::NatsRelay* Service::relay() const { return state_->relay.get(); }
const eventstore::NatsReplicaFeed* Service::replica_feed() const { return state_->feed.get(); }
uint64_t Service::views_position() const { return state_->views->Position(); }
void Service::Stop() { state_->server->Stop(); }

}  // namespace caseledger::api
