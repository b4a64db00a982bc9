// caseledger serve: the HTTP API over the store in DIR/store, until SIGINT/SIGTERM.
#include "api/jwks.h"
#include "api/jwks_source.h"
#include "api/jwt.h"
#include "api/service.h"
#include "app/commands.h"
#include "app/flags.h"
#include "app/log_setup.h"
#include "app/serve_config.h"
#include "app/serve_nats.h"
#include "app/reference_files.h"
#include "eventstore/event_store.h"

#include <iostream>
#include <iterator>
#include <set>

namespace caseledger::app {

int RunServe(const Args& args) {
  std::set<std::string> known(std::begin(kServeFlags), std::end(kServeFlags));
  known.insert(std::begin(kNatsFlags), std::end(kNatsFlags));
  const std::set<std::string> switches(std::begin(kServeSwitches), std::end(kServeSwitches));
  Flags flags(args, known, switches);
  if (!flags.ok()) return UsageError(flags.error());
  if (auto config = flags.Get("config")) {
    std::string why;
    auto from_file = LoadServeConfig(*config, &why);
    if (!from_file) return UsageError(why);
    flags = Flags(WithConfig(*from_file, args), known, switches);
    if (!flags.ok()) return UsageError(flags.error());
  }
  auto log_level = ParseLogLevel(flags.GetOr("log-level", "info"));
  auto log_format = ParseLogFormat(flags.GetOr("log-format", "text"));
  if (!log_level || !log_format) {
    return UsageError("--log-level takes trace|debug|info|warn|error|off, --log-format text|json");
  }
  ConfigureLogs(*log_level, *log_format);
  api::ServiceOptions options;
  options.data_dir = flags.GetOr("data", "./data");
  options.auth_key_path = flags.GetOr("auth-key", "");
  options.issuer = flags.GetOr("token-issuer", options.issuer);
  options.audience = flags.GetOr("token-audience", options.audience);
  if (options.issuer.empty() || options.audience.empty()) {
    return UsageError("--token-issuer and --token-audience must not be empty");
  }
  options.master_key_path = flags.GetOr("master-key", "");
  if (!ParseListen(flags.GetOr("listen", "127.0.0.1:8080"), options.server.host, options.server.port)) {
    return UsageError("--listen must be HOST:PORT");
  }
  options.server.tls_cert_path = flags.GetOr("tls-cert", "");
  options.server.tls_key_path = flags.GetOr("tls-key", "");
  options.server.insecure = flags.Has("insecure");
  for (auto [flag, field] : {std::pair{"max-connections", &options.server.max_connections},
                             std::pair{"max-connections-per-client", &options.server.max_connections_per_client}}) {
    if (auto text = flags.Get(flag)) {
      auto n = ParseCount(*text);
      if (!n) return UsageError(std::string("--") + flag + " takes a count from 0 to 1000000");
      *field = *n;
    }
  }
  if (auto text = flags.Get("min-free-bytes")) {
    auto n = ParseBytes(*text);
    if (!n) return UsageError("--min-free-bytes takes a byte count, e.g. 268435456 or 256M");
    options.min_free_bytes = *n;
  }
  if (auto text = flags.Get("memory-budget")) {
    auto n = ParseCount(*text);
    if (!n) return UsageError("--memory-budget takes MiB, 0 to 1000000");
    options.memory_budget = *n << 20;
  }
  // Plain HTTP carries bearer tokens and health data: loopback only unless asked for.
  if (auto bad = api::ValidateListenOptions(options.server)) {
    return UsageError(*bad + " (--tls-cert FILE --tls-key FILE, or --insecure)");
  }
  if (flags.Has("jwt-public-key")) {
    auto alg = api::ParseJwtAlgorithm(flags.GetOr("jwt-public-key-alg", ""));
    if (!alg || *alg == api::JwtAlgorithm::kHS256) {
      return UsageError("--jwt-public-key needs --jwt-public-key-alg RS256 or ES256");
    }
    std::string error;
    auto key = api::JwtPublicKey::LoadPemFile(*alg, flags.GetOr("jwt-public-key", ""), &error);
    if (!key) return Failure(error);
    options.external_signers.push_back(api::JwtSigner{*key, flags.GetOr("jwt-issuer", "caseledger"),
                                                      flags.GetOr("jwt-audience", "caseledger")});
  }
  if (flags.Has("jwt-jwks")) {
    std::string error;
    auto keys = api::LoadJwksFile(flags.GetOr("jwt-jwks", ""), &error);
    if (!keys) return Failure(error);
    for (const api::JwtPublicKey& key : *keys) {
      options.external_signers.push_back(api::JwtSigner{key, flags.GetOr("jwt-issuer", "caseledger"),
                                                        flags.GetOr("jwt-audience", "caseledger")});
    }
  }
  if (flags.Has("jwt-jwks-uri")) {
    options.jwks_uri = flags.GetOr("jwt-jwks-uri", "");
    if (std::string why; !api::AcceptableJwksUri(options.jwks_uri, &why)) return UsageError("--jwt-jwks-uri: " + why);
    options.idp_issuer = flags.GetOr("jwt-issuer", "caseledger");
    options.idp_audience = flags.GetOr("jwt-audience", "caseledger");
  }
  // The console signs in at the identity provider whose tokens the API accepts.
  if (flags.Has("console-client-id")) {
    if (!flags.Has("jwt-issuer") ||
        !(flags.Has("jwt-jwks") || flags.Has("jwt-jwks-uri") || flags.Has("jwt-public-key"))) {
      return UsageError("--console-client-id needs the identity provider: --jwt-issuer and --jwt-jwks-uri, --jwt-jwks or --jwt-public-key");
    }
    options.console.oidc_issuer = flags.GetOr("jwt-issuer", "");
    options.console.oidc_client_id = flags.GetOr("console-client-id", "");
  }
  auto reference = LoadReferenceData(flags.GetOr("reference", DefaultReferenceDir()));
  if (!reference) return Failure(reference.error().message);
  auto rules = LoadRuleBook(flags.GetOr("rules", DefaultRulesDir()));
  if (!rules) return Failure(rules.error().message);
  options.reference = *reference;
  options.rules = std::make_shared<const domain::RuleBook>(std::move(*rules));
  if (std::string why; !ApplyNatsFlags(flags, options, &why)) return UsageError(why);

  // The port opens before the views have caught up with the log (minutes from scratch at
  // regional scale): say so, and where to look meanwhile.
  options.on_listening = [&options](uint16_t port) {
    std::cout << "listening on " << (options.server.tls_cert_path.empty() ? "http://" : "https://")
              << options.server.host << ":" << port
              << " (views catching up: /healthz, /readyz and /metrics answer, every other route 503 until ready)"
              << std::endl;
  };
  std::string error;
  auto service = api::Service::Open(options, &error);
  if (!service) return Failure(error);
  const std::string scheme = options.server.tls_cert_path.empty() ? "http://" : "https://";
  const std::string url = scheme + options.server.host + ":" + std::to_string(service->port());
  if (options.relay) std::cout << "relaying the log to JetStream stream " << options.relay->stream << "\n";
  if (options.replica) {
    std::cout << "read replica of JetStream stream " << options.replica->stream << " (consumer "
              << options.replica->durable << "), views at position " << service->views_position() << "\n";
  }
  if (options.ship_standby) std::cout << "shipping the whole log to a warm standby through JetStream stream " << options.ship_standby->stream << "\n";
  if (options.standby) {
    std::cout << "warm standby following JetStream stream " << options.standby->stream << " at position "
              << service->store().CommittedPosition() << "; commands refused until `caseledger promote --data "
              << options.data_dir << "`\n";
  }
  // A signal from here on stops the server cleanly: the banner below tells an operator (and
  // systemd, and the tests) that it serves, and a SIGTERM right after it must not take the
  // default action.
  service->HandleSignals();
  std::cout << "console:        " << url << "/"
            << (options.console.oidc_client_id.empty() ? " (sign in with a pasted token)" : " (sign in at " + options.console.oidc_issuer + ")")
            << "\n";
  std::cout << "caseledger serving " << url << "  (store " << options.data_dir << "/store, position "
            << service->store().CommittedPosition() << ")\n"
            << "  a token:      TOKEN=$(build/app/caseledger token --key " << service->auth_key_path()
            << (options.issuer == "caseledger" ? "" : " --iss '" + options.issuer + "'")
            << (options.audience == "caseledger" ? "" : " --aud '" + options.audience + "'")
            << " --sub SUBJECT)\n"
            << "  its rights:   build/app/caseledger grant --data DIR --sub SUBJECT --role ROLE [--scope S]"
               " (server stopped) or POST /v1/grants as an admin\n";
  std::cout.flush();
  service->Run(true);
  std::cout << "caseledger stopped at position " << service->store().CommittedPosition() << "\n";
  return 0;
}

}  // namespace caseledger::app
