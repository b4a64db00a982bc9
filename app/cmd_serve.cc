// caseledger serve: the HTTP API over the store in DIR/store, until SIGINT/SIGTERM.
#include "api/service.h"
#include "app/commands.h"
#include "app/flags.h"
#include "app/reference_files.h"
#include "eventstore/event_store.h"

#include <charconv>
#include <iostream>

namespace caseledger::app {
namespace {

bool ParseListen(const std::string& listen, std::string& host, uint16_t& port) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) return false;
  host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string p = listen.substr(colon + 1);
  auto r = std::from_chars(p.data(), p.data() + p.size(), port);
  return r.ec == std::errc{} && r.ptr == p.data() + p.size() && !host.empty();
}

bool IsLoopback(const std::string& host) { return host == "127.0.0.1" || host == "::1" || host == "localhost"; }

}  // namespace

int RunServe(const Args& args) {
  Flags flags(args, {"data", "listen", "config", "nats", "replica-of", "auth-key", "reference", "rules"},
              {"demo", "allow-remote"});
  if (!flags.ok()) return UsageError(flags.error());
  for (const char* later : {"config", "nats", "replica-of"}) {
    if (flags.Has(later)) return UsageError(std::string("--") + later + " is not built yet");
  }
  api::ServiceOptions options;
  options.data_dir = flags.GetOr("data", "./data");
  options.auth_key_path = flags.GetOr("auth-key", "");
  if (!ParseListen(flags.GetOr("listen", "127.0.0.1:8080"), options.server.host, options.server.port)) {
    return UsageError("--listen must be HOST:PORT");
  }
  // Plain HTTP carries bearer tokens and health data: loopback only unless asked for.
  if (!IsLoopback(options.server.host) && !flags.Has("allow-remote")) {
    return UsageError("plain HTTP listens on loopback only; TLS is not built yet (--allow-remote overrides)");
  }
  auto reference = LoadReferenceData(flags.GetOr("reference", DefaultReferenceDir()));
  if (!reference) return Failure(reference.error().message);
  auto rules = LoadRuleBook(flags.GetOr("rules", DefaultRulesDir()));
  if (!rules) return Failure(rules.error().message);
  options.reference = *reference;
  options.rules = std::make_shared<const domain::RuleBook>(std::move(*rules));

  std::string error;
  auto service = api::Service::Open(options, &error);
  if (!service) return Failure(error);
  const std::string url = "http://" + options.server.host + ":" + std::to_string(service->port());
  std::cout << "caseledger serving " << url << "  (store " << options.data_dir << "/store, position "
            << service->store().CommittedPosition() << ")\n"
            << "  get a token:  TOKEN=$(build/app/caseledger token --key " << service->auth_key_path()
            << " --sub me)\n"
            << "  try:          curl -s -H \"Authorization: Bearer $TOKEN\" " << url << "/v1/rules\n";
  if (flags.Has("demo")) {
    std::cout << "  --demo: the demo workload comes with the load generator (issue #8); the store "
                 "holds what you add.\n";
  }
  std::cout.flush();
  service->Run(true);
  std::cout << "caseledger stopped at position " << service->store().CommittedPosition() << "\n";
  return 0;
}

}  // namespace caseledger::app
