// The whole server assembled: store, reference data, rules, auth key, routes and the HTTP
// server. Used by `caseledger serve` and by the integration tests, so both run the same
// thing.
#pragma once

#include "api/jwt.h"
#include "api/server.h"
#include "api/static_assets.h"
#include "domain/reference.h"
#include "domain/rules.h"
#include "eventstore/nats_relay.h"
#include "eventstore/nats_replica_feed.h"
#include "eventstore/standby.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace caseledger::eventstore {
class EventStore;
class AccessLog;
}
namespace caseledger::serving {
class LiveViews;
}

namespace caseledger::api {

struct ServiceOptions {
  std::string data_dir;       // the store lives in data_dir/store
  std::string auth_key_path;  // empty: data_dir/auth.key, created on first start
  // "iss" and "aud" the server's own HS256 tokens must carry (docs/operations.md, auth.issuer: caseledger unless
  // the config says otherwise; `caseledger token --iss I --aud A` mints such tokens).
  std::string issuer = "caseledger";
  std::string audience = "caseledger";
  // Wraps the per-person keys of personal data (eventstore/FORMAT.md); empty:
  // data_dir/master.key, created (0600) on first start.
  std::string master_key_path;
  // Signers accepted besides the server's own HS256 key (an identity provider's RS256 or
  // ES256 public key, each with its issuer and audience).
  std::vector<JwtSigner> external_signers;
  // The identity provider's jwks_uri (jwks_source.h): its keys, fetched at start and kept
  // current, are accepted for `idp_issuer` and `idp_audience` too. Empty: none.
  std::string jwks_uri;
  std::string idp_issuer = "caseledger";
  std::string idp_audience = "caseledger";
  ServerOptions server;
  // The web console served at `/` (static_assets.h): its sign-in settings.
  ConsoleOptions console;
  std::shared_ptr<const domain::ReferenceData> reference;
  // The shipped rule sets (ops/rules/): recorded as RulesAdopted when the log has no rules
  // yet (first start). After that the rules come from the log only (replay/rules_log.h).
  std::shared_ptr<const domain::RuleBook> rules;
  // NATS (docs/nats.md). With `relay`, the log is published to JetStream (nats_relay.h).
  std::optional<eventstore::RelayOptions> relay;
  // With `replica`, a read-only node: the views follow the JetStream stream instead of
  // the local log (which stays empty) and every other route answers 503 naming
  // `primary_url` (may be empty). Not together with `relay`.
  std::optional<eventstore::ReplicaFeedOptions> replica;
  std::string primary_url;
  // Warm standby (eventstore/standby.h, docs/standby.md). With `ship_standby` this primary
  // also ships its whole log to the standby stream. With `standby` this node keeps a copy
  // of the primary's store from that stream: it serves the views, answers commands and
  // person queries 503 naming `primary_url` until promoted (DATA/control.sock `promote`),
  // and then accepts them. Not together with `replica`.
  std::optional<eventstore::StandbyShipOptions> ship_standby;
  std::optional<eventstore::StandbyFollowOptions> standby;
  // The memory budget in bytes (0: serving::kDefaultMemoryBudget), split between the
  // store's block cache and memtables and the views' caches and database
  // (serving/memory_budget.h); a dry run's what-if takes a quarter of it on top
  // (replay::WhatIfOptions::memory_budget; 0: its default).
  size_t memory_budget = 0;
  // Nice value of a views rebuild's thread (serving::LiveViewsOptions); tests set 0.
  int rebuild_nice = 10;
  // Access records (reads of personal data) older than this are pruned; docs/security.md: 24 months.
  int access_log_retention_days = 731;
  // The free-space floor (eventstore/disk_space.h) of the store and the views: below it
  // commands are answered 507 and the views pause, until space is freed. The access log's
  // floor is half of it: below that, reads of personal data are refused too. 0: none (a
  // full disk still answers 507, and the store then needs a restart).
  uint64_t min_free_bytes = 64 << 20;
  // Called on Open's thread once the port is open, before the views catch up (with the
  // bound port): /healthz, /readyz and /metrics answer from then on, every route needing a
  // token answers 503 "starting" until Open returns.
  std::function<void(uint16_t port)> on_listening;
};

class Service {
 public:
  // Opens the store, loads or creates the key, registers the routes, binds the port and
  // serves /healthz, /readyz and /metrics on it while the views catch up with the log;
  // returns once they have (then every route answers).
  static std::unique_ptr<Service> Open(ServiceOptions options, std::string* error);
  ~Service();

  uint16_t port() const;
  const std::string& auth_key_path() const;
  eventstore::EventStore& store();
  // Null unless configured.
  const eventstore::NatsRelay* relay() const;
  const eventstore::NatsReplicaFeed* replica_feed() const;
  // A standby's promotion (what DATA/control.sock's `promote` runs): stops following once
  // the stream holds nothing more, promotes the store, publishes the fence, accepts
  // commands. Answers the control socket's JSON line.
  std::string Promote();
  // Position the read views have applied (X-Position).
  uint64_t views_position() const;
  // The live views and their blue-green rebuilds.
  serving::LiveViews& views();
  eventstore::AccessLog& access_log();
  // Serves until Stop() or (with handle_signals) SIGINT/SIGTERM; then stops the views,
  // the relay and the feed.
  void Run(bool handle_signals);
  // SIGINT/SIGTERM stop the server gracefully from the return on (HttpServer::
  // HandleSignals); before Run, so that what is announced after it is stopped cleanly.
  void HandleSignals();
  void Stop();

 private:
  Service();
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace caseledger::api
