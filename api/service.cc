#include "api/service.h"

#include "api/api_context.h"
#include "api/api_logger.h"
#include "api/backup_request.h"
#include "api/control_socket.h"
#include "api/grant_table.h"
#include "api/memory_metrics.h"
#include "api/person_cache.h"
#include "serving/memory_budget.h"
#include "api/jwks_source.h"
#include "api/jwt.h"
#include "api/metrics.h"
#include "api/replica_routes.h"
#include "api/routes.h"
#include "api/school_registry.h"
#include "api/position_waiters.h"
#include "api/standby_routes.h"
#include "api/startup_gate.h"
#include "api/sse.h"
#include "api/static_assets.h"
#include "api/storage_health.h"
#include "api/thread_inbox.h"
#include "api/token_cache.h"
#include "eventstore/access_log.h"
#include "domain/events.h"
#include "eventstore/event_store.h"
#include "serving/live_views.h"

#include <boost/json/serialize.hpp>
#include "replay/rules_log.h"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>

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
  std::unique_ptr<PersonCache> people;  // its share of the memory budget (serving/memory_budget.h)
  std::unique_ptr<eventstore::NatsReplicaFeed> feed;  // outlives the views reading it
  // Reads waiting for a position, told by the views when they publish (outlive both).
  PositionWaiters waiters;
  std::atomic<serving::LiveViews*> live{nullptr};  // `views`, once started
  std::unique_ptr<serving::LiveViews> views;
  std::unique_ptr<eventstore::NatsRelay> relay;
  // Warm standby (docs/standby.md): stopped before the views and the store go.
  std::unique_ptr<eventstore::StandbyShipper> shipper;
  std::unique_ptr<eventstore::StandbyFollower> standby;
  std::shared_ptr<std::atomic<bool>> promoted = std::make_shared<std::atomic<bool>>(false);
  std::mutex promote_mu;
  uint64_t rules_version = 0;  // the standby's: the rules stream's version last seen
  SseHub sse;
  HttpMetrics metrics;
  ApiContext ctx;
  Router router;
  std::unique_ptr<HttpServer> server;
  // Runs `server` from the moment the port is open (before the views have caught up) until
  // Stop() or a signal; joined by Run().
  std::thread server_thread;
  StartupProgress startup;  // the views' catch-up at start, for /readyz and /metrics
  std::unique_ptr<JwksSource> jwks;  // stopped before `tokens` goes
  uint16_t port = 0;
  std::unique_ptr<ControlSocket> control;  // DATA/control.sock; stopped before the stores close

  ~State() {
    if (server_thread.joinable()) {  // Open failed once the port was open, or Run never ran
      server->Stop();
      server_thread.join();
    }
  }
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
// only), so that the GrantTable over the local log answers as the primary's does, and of
// its `rules` stream, whose adoptions then rebuild the views, blue-green, as the primary's
// were. The copy keeps the primary's stream versions: a version already held (redelivery;
// the shipped rule sets both recorded first) is skipped.
bool CopyUsersOrRulesEvent(eventstore::EventStore& local, serving::LiveViews* views, const domain::Envelope& e,
                           std::string* why) {
  const bool rules = e.stream == domain::kRulesStream;
  if (!rules && e.stream != domain::kUsersStream) return true;
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
    *why = "copying " + e.stream + " event version " + std::to_string(e.version) + ": " + r.error().message;
    return false;
  }
  if (rules && views != nullptr) views->Adopt(r->last_position);
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
  const serving::MemoryBudget budget = serving::SplitMemoryBudget(s.options.memory_budget);
  store_options.block_cache_bytes = budget.store_block_cache;
  store_options.write_buffer_bytes = budget.store_write_buffers;
  store_options.min_free_bytes = s.options.min_free_bytes;
  store_options.master_key_path =
      s.options.master_key_path.empty() ? s.options.data_dir + "/master.key" : s.options.master_key_path;
  if (s.options.ship_standby) {
    // Retired WAL files stay until shipped (the shipper deletes them), at most as long as
    // the stream keeps frames: a standby further behind is seeded again anyway.
    store_options.wal_archive_seconds = uint64_t(s.options.ship_standby->max_age.count());
  }
  if (s.options.standby && s.options.replica) {
    *error = "a node is a read replica or a warm standby, not both";
    return nullptr;
  }
  if (s.options.standby && !std::filesystem::exists(store_options.master_key_path)) {
    *error = "a warm standby needs the primary's master key: copy it to " + store_options.master_key_path +
             " (or give --master-key FILE)";
    return nullptr;
  }
  auto store = eventstore::EventStore::Open(store_options);
  if (!store) {
    *error = "cannot open store " + store_options.path + ": " + store.error().message;
    return nullptr;
  }
  s.store = std::move(*store);
  eventstore::EventStore* st = s.store.get();
  if (s.options.standby) {
    if (auto standby = st->BecomeStandby(); !standby) {
      *error = "cannot follow as a warm standby: " + standby.error().message +
               (st->Role().epoch > 0 ? "; this store was promoted: serve it without --standby-of" : "");
      return nullptr;
    }
  } else if (st->Role().standby) {
    *error = "the store in " + s.options.data_dir + " is a warm standby: serve it with --standby-of URL, or promote it "
             "first (caseledger promote --data " + s.options.data_dir + ")";
    return nullptr;
  }
  // A group's answers reach each I/O thread in one wake-up (thread_inbox.h).
  st->AddAnswerHooks({&ThreadInbox::HoldWakes, &ThreadInbox::WakeHeld});
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
  s.metrics.AddGauge("caseledger_store_sync_seconds_max", "Longest synced log write so far.",
                     [st] { return st->Stats().max_sync_micros / 1e6; });
  s.metrics.AddCounter("caseledger_store_slow_syncs_total", "Synced log writes that took over 10 ms.",
                       [st] { return double(st->Stats().slow_syncs); });
  s.metrics.AddGauge("caseledger_store_max_group_size", "Largest group commit so far (requests).",
                     [st] { return double(st->Stats().max_group_size); });
  s.metrics.AddCounter("caseledger_store_log_reads_total", "Reads of the log that returned events (the views', the relay's).",
                       [st] { return double(st->Stats().log_reads); });
  s.metrics.AddCounter("caseledger_store_log_reads_in_memory_total",
                       "Reads of the log served from the last group commits' records in memory.",
                       [st] { return double(st->Stats().log_reads_in_memory); });

  // Rules come from the log; a store without any gets the shipped sequence once (a
  // standby's come from its primary's log).
  if (s.options.rules && !s.options.standby) {
    auto recorded = replay::BootstrapRules(*st, *s.options.rules);
    if (!recorded) {
      *error = "cannot record the shipped rules: " + recorded.error().message;
      return nullptr;
    }
  }
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
  s.people = std::make_unique<PersonCache>(budget.api_person_cache);
  s.ctx.people = s.people.get();
  s.ctx.access_log = s.access_log.get();
  s.ctx.sse = &s.sse;
  s.ctx.reference = s.options.reference;
  s.ctx.whatif_memory_budget = s.options.memory_budget / 4;
  s.ctx.metrics = &s.metrics;
  s.ctx.clock = SystemNow;
  s.ctx.new_id = [] { return NewUlid(SystemNow()); };
  AddStorageGauges(s.metrics, s.ctx, s.options.data_dir, s.options.min_free_bytes);
  // Until the views have caught up only the routes without a token answer (/healthz,
  // /readyz, /metrics, the contract, the console's files); the others say 503, starting.
  Router all;
  AddAllRoutes(all, s.ctx);
  if (s.options.standby) {
    all = StandbyRouter(all, "This node is a warm standby of the primary" +
                                 (s.options.primary_url.empty() ? std::string() : " at " + s.options.primary_url) +
                                 "; send commands and person queries there (it takes them once promoted).",
                        s.promoted);
  } else if (s.options.replica) {
    all = ReplicaRouter(all, "This node serves the read views only; send commands and person queries to the primary" +
                                 (s.options.primary_url.empty() ? std::string(" (the node that writes stream ") + s.options.replica->stream + ")"
                                                                : " at " + s.options.primary_url) + ".");
  }
  s.router = StartingRouter(all, s.startup);
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
  Authenticator auth = [tokens, grants, jwks](std::string_view bearer, std::string* why,
                                              VerifiedBearer* last) -> std::optional<Principal> {
    const int64_t now = SystemNow().micros / 1'000'000;
    auto subject = last ? tokens->Subject(bearer, now, *last) : tokens->Subject(bearer, now);
    if (!subject) {
      // Signed by a key we do not know: perhaps the provider rotated; look again (rate
      // limited), and the client's retry passes once the new key is in.
      if (jwks && subject.error() == JwtError::kBadSignature) jwks->RefreshSoon();
      *why = std::string("invalid token: ") + ToString(subject.error());
      return std::nullopt;
    }
    // The token says who; the grants in the log say what they may do, as of now.
    Principal p;
    p.grants = grants->For(*subject);
    p.subject = std::move(*subject);
    return p;
  };
  ServerOptions server_options = s.options.server;
  server_options.position_waiters = &s.waiters;
  s.server = std::make_unique<HttpServer>(server_options, s.router, std::move(auth),
                                          [serving = &s.live] {
                                            serving::LiveViews* views = serving->load(std::memory_order_acquire);
                                            return views ? views->Position() : 0;
                                          },
                                          &s.metrics);
  auto port = s.server->Start(error);
  if (!port) return nullptr;
  s.port = *port;
  s.startup.Set(projections::CatchUpProgress{0, st->CommittedPosition(), 0, -1});
  s.ctx.startup_status = [startup = &s.startup] { return startup->Json(); };
  s.metrics.AddGauge("caseledger_views_catching_up",
                     "1 while the views catch up at start: only /healthz, /readyz and /metrics answer.",
                     [startup = &s.startup] { return startup->Running() ? 1.0 : 0.0; });
  HttpServer* server = s.server.get();
  s.server_thread = std::thread([server] { server->Run(false); });
  if (s.options.on_listening) s.options.on_listening(s.port);

  // The read views: caught up (the port answers /healthz, /readyz and /metrics meanwhile),
  // then following the log; replaced blue-green when rules are adopted.
  serving::LiveViewsOptions views_options;
  views_options.data_dir = s.options.data_dir;
  views_options.reference = s.options.reference;
  views_options.rebuild_nice = s.options.rebuild_nice;
  views_options.min_free_bytes = s.options.min_free_bytes;
  views_options.memory_budget = s.options.memory_budget;
  SseHub* hub = &s.sse;
  PositionWaiters* waiters = &s.waiters;
  std::atomic<serving::LiveViews*>* serving = &s.live;
  // After every published batch: change streams get their frames at once, and reads
  // waiting for a position (min_position) look again.
  views_options.on_changes = [hub, waiters, serving](const std::vector<projections::ViewChange>& changes) {
    for (const auto& c : changes) hub->Publish(c.view, c.key, c.position);
    if (serving::LiveViews* views = serving->load(std::memory_order_acquire)) waiters->Notify(views->Position());
  };
  eventstore::LogReader* log = st;
  if (s.options.replica) {
    // A replica's views follow JetStream; its local log holds a copy of the primary's
    // users stream (grants) and the shipped rules, nothing else.
    eventstore::ReplicaFeedOptions feed_options = *s.options.replica;
    feed_options.before_apply = [st, &s](const domain::Envelope& e, std::string* why) {
      return CopyUsersOrRulesEvent(*st, s.views.get(), e, why);
    };
    s.feed = std::make_unique<eventstore::NatsReplicaFeed>(std::move(feed_options));
    log = s.feed.get();
    views_options.follow = s.feed.get();
  }
  StartupProgress* startup = &s.startup;
  views_options.on_catch_up = [startup](const projections::CatchUpProgress& p) { startup->Set(p); };
  auto live = serving::LiveViews::Open(*st, std::move(views_options));
  if (!live) {
    *error = "cannot open the views: " + live.error().message;
    return nullptr;  // ~State stops the server
  }
  s.views = std::move(*live);
  serving::LiveViews* vr = s.views.get();
  ApiLog()->info("memory with the views ready: {}", MemoryLine(*st, *vr, *s.people));
  AddMemoryGauges(s.metrics, *st, *vr, *s.people);
  if (s.feed) s.feed->Start(vr->Position(), [vr] { return vr->Position(); });
  if (s.options.standby) {
    // The views follow the standby's own log; a rule adoption in what was shipped rebuilds
    // them under the new book, as the primary's were.
    auto rules_version = st->StreamVersion(std::string(domain::kRulesStream));
    s.rules_version = rules_version ? *rules_version : 0;
    eventstore::StandbyFollowOptions follow = *s.options.standby;
    follow.on_applied = [st, vr, &s](const eventstore::StandbyApplied&) {
      auto version = st->StreamVersion(std::string(domain::kRulesStream));
      if (!version || *version == s.rules_version) return;
      s.rules_version = *version;
      auto last = st->ReadStream(std::string(domain::kRulesStream), *version, 1);
      if (last && !last->empty()) vr->Adopt(last->back().position);
    };
    s.standby = eventstore::StandbyFollower::Start(*st, std::move(follow));
    eventstore::StandbyFollower* f = s.standby.get();
    s.metrics.AddGauge("caseledger_standby_position", "Log position the standby holds.",
                       [f] { return double(f->Status().position); });
    s.metrics.AddGauge("caseledger_standby_primary_position", "The primary's committed position in the newest frame received.",
                       [f] { return double(f->Status().primary_position); });
    s.metrics.AddGauge("caseledger_standby_lag_events", "Events the primary had committed, per the newest frame, that the standby lacks.",
                       [f] {
                         auto st = f->Status();
                         return double(st.primary_position - std::min(st.primary_position, st.position));
                       });
    s.metrics.AddGauge("caseledger_standby_pending_messages", "Standby stream messages not yet fetched.",
                       [f] { return double(f->Status().pending_messages); });
    s.metrics.AddGauge("caseledger_standby_last_frame_age_seconds", "Seconds since the primary published the last frame applied (-1: none); grows while the primary is idle.",
                       [f] {
                         auto st = f->Status();
                         return st.last_frame_age_ms < 0 ? -1.0 : st.last_frame_age_ms / 1000.0;
                       });
    s.metrics.AddGauge("caseledger_standby_connected", "1 while the standby is connected to NATS.",
                       [f] { return f->Status().connected ? 1.0 : 0.0; });
    s.metrics.AddGauge("caseledger_standby_stopped", "1 when the standby follows no more (refused a frame, fenced, promoted).",
                       [f] { return f->Status().stopped ? 1.0 : 0.0; });
    s.metrics.AddCounter("caseledger_standby_refused_total", "Frames refused (altered, forged, a gap or a fork).",
                         [f] { return double(f->Status().refused); });
    std::shared_ptr<const std::atomic<bool>> promoted = s.promoted;
    s.metrics.AddGauge("caseledger_standby_promoted", "1 once this standby was promoted to primary.",
                       [promoted] { return promoted->load() ? 1.0 : 0.0; });
  }
  if (s.options.ship_standby) {
    s.shipper = eventstore::StandbyShipper::Start(*st, *s.options.ship_standby);
    eventstore::StandbyShipper* sh = s.shipper.get();
    s.metrics.AddGauge("caseledger_standby_shipped_position", "Every log position up to this one is in the standby stream.",
                       [sh] { return double(sh->Status().shipped_position); });
    s.metrics.AddGauge("caseledger_standby_ship_lag_events", "Committed events not yet in the standby stream.",
                       [sh] { return double(sh->Lag()); });
    s.metrics.AddGauge("caseledger_standby_ship_connected", "1 while the shipper is connected to NATS.",
                       [sh] { return sh->Status().connected ? 1.0 : 0.0; });
    s.metrics.AddGauge("caseledger_standby_fenced_by_epoch", "A standby promoted at this epoch fenced this primary (0: none).",
                       [sh] { return double(sh->Status().fenced_by); });
  }
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
  if (s.standby) {
    eventstore::StandbyFollower* f = s.standby.get();
    std::shared_ptr<const std::atomic<bool>> promoted = s.promoted;
    s.ctx.standby_status = [f, promoted] {
      const eventstore::StandbyFollowStatus st = f->Status();
      boost::json::object o;
      o["role"] = promoted->load() ? "promoted" : "standby";
      o["following"] = !st.stopped;
      o["position"] = st.position;
      o["primary_position"] = st.primary_position;
      o["lag_events"] = st.primary_position - std::min(st.primary_position, st.position);
      o["pending_messages"] = st.pending_messages;
      o["last_frame_age_ms"] = st.last_frame_age_ms;
      o["connected"] = st.connected;
      if (!st.failure.empty()) o["failure"] = st.failure;
      return "\"standby\":" + boost::json::serialize(o);
    };
  }
  if (!s.options.replica) {
    // `caseledger backup` reaches the databases this process holds open through here.
    eventstore::AccessLog* access_log = s.access_log.get();
    const std::string data_dir = s.options.data_dir;
    auto backup_mu = std::make_shared<std::mutex>();
    std::string why;
    Service* self = service.get();
    s.control = ControlSocket::Start(
        data_dir + "/control.sock",
        [st, access_log, data_dir, backup_mu, self](const std::string& request) {
          if (request == "promote") return self->Promote();
          std::lock_guard lock(*backup_mu);
          return AnswerControlRequest(*st, access_log, data_dir, request);
        },
        &why);
    if (!s.control) ApiLog()->warn("no control socket, so no online backup: {}", why);
  }
  s.ctx.views = vr;
  s.live.store(vr, std::memory_order_release);
  s.startup.Finish();  // the routes may read every field of the context from here on
  ApiLog()->info("views ready at position {}: answering every route", vr->Position());
  return service;
}

uint16_t Service::port() const { return state_->port; }
const std::string& Service::auth_key_path() const { return state_->key_path; }
eventstore::EventStore& Service::store() { return *state_->store; }
serving::LiveViews& Service::views() { return *state_->views; }
eventstore::AccessLog& Service::access_log() { return *state_->access_log; }
void Service::HandleSignals() { state_->server->HandleSignals(); }
void Service::Run(bool handle_signals) {
  // The server runs since Open opened the port; from here on a signal stops it gracefully
  // (during Open's catch-up it ended the process, as before the port opened early).
  if (handle_signals) state_->server->HandleSignals();
  if (state_->server_thread.joinable()) state_->server_thread.join();
  if (state_->standby) state_->standby->Stop();
  if (state_->shipper) state_->shipper->Stop();
  state_->views->Stop();
  if (state_->relay) state_->relay->Stop();
  if (state_->feed) state_->feed->Stop();
}
const eventstore::NatsRelay* Service::relay() const { return state_->relay.get(); }
const eventstore::NatsReplicaFeed* Service::replica_feed() const { return state_->feed.get(); }
std::string Service::Promote() {
  State& s = *state_;
  std::lock_guard lock(s.promote_mu);
  auto answer = [](boost::json::object o) { return boost::json::serialize(o); };
  if (!s.standby || s.promoted->load()) {
    return answer({{"ok", false}, {"error", s.standby ? "promoted already" : "this node is not a warm standby"}});
  }
  const auto start = std::chrono::steady_clock::now();
  // What the stream still holds is applied first: the last frames the primary shipped.
  s.standby->Drain(std::chrono::seconds(10));
  auto role = s.store->Promote();
  if (!role) {
    ApiLog()->error("promotion refused: {}", role.error().message);
    return answer({{"ok", false}, {"error", role.error().message}});
  }
  s.promoted->store(true, std::memory_order_release);
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  std::string why;
  const bool fenced = eventstore::PublishFence(*s.store, *s.options.standby, role->epoch, std::chrono::seconds(2), &why);
  ApiLog()->info("promoted to primary at epoch {}, position {}, in {} ms; fence {}", role->epoch,
                 s.store->CommittedPosition(), millis, fenced ? "published" : "not published: " + why);
  return answer({{"ok", true},
                 {"epoch", role->epoch},
                 {"position", s.store->CommittedPosition()},
                 {"millis", millis},
                 {"fence", fenced ? std::string("published") : "not published: " + why}});
}

uint64_t Service::views_position() const { return state_->views->Position(); }
void Service::Stop() { state_->server->Stop(); }

}  // namespace caseledger::api
