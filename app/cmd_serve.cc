// caseledger serve: the HTTP API over the store in DIR/store, until SIGINT/SIGTERM.
#include "api/grants.h"
#include "api/jwks.h"
#include "api/jwks_source.h"
#include "api/jwt.h"
#include "api/service.h"
#include "app/commands.h"
#include "app/demo_workload.h"
#include "app/flags.h"
#include "app/log_setup.h"
#include "app/serve_config.h"
#include "app/serve_nats.h"
#include "app/reference_files.h"
#include "domain/events.h"
#include "domain/access.h"
#include "eventstore/event_store.h"

#include <charconv>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <set>

namespace caseledger::app {
namespace {

constexpr char kDemoAdmin[] = "demo-admin";
constexpr int64_t kDemoTokenTtlSeconds = 12 * 3600;

// The demo's users: one per kind of caller, so the quick start shows what each may see.
struct DemoUser {
  const char* subject;
  std::vector<std::pair<const char*, const char*>> grants;  // role, scope
  const char* what;
};
const std::vector<DemoUser>& DemoUsers() {
  static const std::vector<DemoUser> users = {
      {kDemoAdmin, {{"admin", ""}, {"auditor", ""}}, "admin + auditor: grants, rules; reads every history"},
      {"demo-operator-to", {{"operator", "TO"}}, "operator of ASL Città di Torino: people resident there"},
      {"demo-mayor-torino", {{"mayor", "001272"}}, "mayor of Torino: its aggregate view, counts < 3 hidden"},
  };
  return users;
}

struct DemoIntro {
  std::vector<std::pair<std::string, std::string>> tokens;  // subject, token
  std::string person_id;  // a case of the demo, when loaded now
  std::string tax_code;
};

// --demo: loads the demo workload into an empty store (never a second time) and mints the
// demo admin's token; nullopt after printing why it failed.
std::optional<DemoIntro> PrepareDemo(api::Service& service, const api::ServiceOptions& serve_options,
                                     std::shared_ptr<const domain::ReferenceData> reference,
                                     const std::string& reference_dir) {
  DemoIntro intro;
  const std::shared_ptr<const domain::ReferenceData> service_reference = reference;
  const uint64_t position = service.store().CommittedPosition();
  // A new store holds only the shipped rules, recorded by Service::Open.
  auto rules = service.store().StreamVersion(std::string(domain::kRulesStream));
  if (position > (rules ? *rules : 0)) {
    std::cout << "demo: the store already holds " << position
              << " events; not loading the demo workload again\n";
  } else {
    DemoOptions options;
    options.admin_subject = kDemoAdmin;
    std::cout << "demo: loading Piedmont " << options.from.ToString() << " to "
              << options.to.ToString() << " at 1:" << options.scale << " (DPC daily series) ..."
              << std::endl;
    std::string error;
    auto r =
        LoadDemoWorkload(service.store(), std::move(reference), reference_dir, options, &error);
    if (!r) {
      Failure(error + " (what was appended before the failure stays in the store)");
      return std::nullopt;
    }
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.1f", r->seconds);
    std::cout << "demo: loaded " << r->days << " days: " << r->people << " people, " << r->events
              << " events (" << r->swabs << " swabs, " << r->positives << " new positives, "
              << r->recoveries << " recoveries, " << r->deaths << " deaths) in " << seconds
              << " s\n";
    if (r->rejected > 0) {
      std::cout << "demo: " << r->rejected
                << " generated commands were rejected (a generator bug), first: "
                << r->first_rejections.front() << "\n";
    }
    intro.person_id = r->example_person_id;
    intro.tax_code = r->example_tax_code;
  }
  std::string error;
  auto key = api::LoadKeyFile(service.auth_key_path(), &error);
  if (!key) {
    Failure(error);
    return std::nullopt;
  }
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  for (const DemoUser& user : DemoUsers()) {
    for (const auto& [role, scope] : user.grants) {
      auto grant = domain::ValidateGrant(role, scope, *service_reference);
      auto change = grant ? api::RecordGrant(service.store(), user.subject, *grant, false, {"demo", "admin"},
                                             domain::Timestamp{now * 1'000'000})
                          : eventstore::StoreResult<api::GrantChange>(
                                eventstore::StoreError{eventstore::StoreErrorCode::kInvalidArgument, grant.error().message});
      if (!change) {
        Failure("cannot grant the demo users their roles: " + change.error().message);
        return std::nullopt;
      }
    }
    api::TokenClaims claims;
    claims.subject = user.subject;
    claims.issuer = serve_options.issuer;
    claims.audience = serve_options.audience;
    claims.issued_at = now;
    claims.expires_at = now + kDemoTokenTtlSeconds;
    intro.tokens.emplace_back(user.subject, api::SignToken(claims, *key));
  }
  return intro;
}

}  // namespace

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
  if (options.replica && flags.Has("demo")) return UsageError("--demo loads a primary, not a replica");

  std::string error;
  auto service = api::Service::Open(options, &error);
  if (!service) return Failure(error);
  std::optional<DemoIntro> demo;
  if (flags.Has("demo")) {
    demo = PrepareDemo(*service, options, *reference, flags.GetOr("reference", DefaultReferenceDir()));
    if (!demo) return 1;
  }
  const std::string scheme = options.server.tls_cert_path.empty() ? "http://" : "https://";
  const std::string url = scheme + options.server.host + ":" + std::to_string(service->port());
  if (options.relay) std::cout << "relaying the log to JetStream stream " << options.relay->stream << "\n";
  if (options.replica) {
    std::cout << "read replica of JetStream stream " << options.replica->stream << " (consumer "
              << options.replica->durable << "), views at position " << service->views_position() << "\n";
  }
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
  if (demo) {
    const std::string curl = "  curl -s -H \"Authorization: Bearer $TOKEN\" ";
    const std::string person = demo->person_id.empty() ? "PERSON_ID" : demo->person_id;
    const std::string tax_code = demo->tax_code.empty() ? "TAX_CODE" : demo->tax_code;
    std::cout << "demo tokens (valid 12 h):\n";
    for (size_t i = 0; i < demo->tokens.size(); ++i) {
      std::cout << "  " << DemoUsers()[i].subject << " (" << DemoUsers()[i].what << "):\n"
                << "    " << demo->tokens[i].second << "\n";
    }
    std::cout << "with TOKEN set to the demo-admin token (admin + auditor):\n"
              << "  export TOKEN=" << demo->tokens.front().second << "\n"
              << curl << url << "/v1/views/region/daily.csv\n"
              << curl << url << "/v1/views/municipalities/001272\n"
              << curl << "'" << url << "/v1/people?tax_code=" << tax_code << "'\n"
              << curl << url << "/v1/people/" << person << "/history\n";
  }
  std::cout.flush();
  service->Run(true);
  std::cout << "caseledger stopped at position " << service->store().CommittedPosition() << "\n";
  return 0;
}

}  // namespace caseledger::app
