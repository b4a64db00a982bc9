// caseledger-demo: the quick start's data (ops/demo). Loads the demo workload (October 2020
// in Piedmont at 1:1000, workload/demo_workload.h) into an empty data directory, grants the
// demo users their roles and prints a token for each, with curl lines to try against the
// server `caseledger serve --data DIR` then runs there. The store is opened as serve opens
// it (api::Service: the shipped rules, the auth and master keys on first start), so the
// tokens printed are valid for that server. A store holding more than the shipped rules is
// not loaded again; the grants are recorded once and the tokens minted afresh.
#include "api/grants.h"
#include "api/jwt.h"
#include "api/service.h"
#include "app/flags.h"
#include "app/reference_files.h"
#include "domain/access.h"
#include "domain/events.h"
#include "eventstore/event_store.h"
#include "tools/tools.h"
#include "workload/demo_workload.h"

#include <chrono>
#include <cstdio>
#include <iostream>

namespace caseledger::tools {
namespace {

using app::Failure;

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

// Loads the demo workload into an empty store (never a second time), grants the demo users
// their roles and mints their tokens; nullopt after printing why it failed.
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
    workload::DemoOptions options;
    options.admin_subject = kDemoAdmin;
    std::cout << "demo: loading Piedmont " << options.from.ToString() << " to "
              << options.to.ToString() << " at 1:" << options.scale << " (DPC daily series) ..."
              << std::endl;
    std::string error;
    auto r = workload::LoadDemoWorkload(service.store(), std::move(reference), reference_dir, options, &error);
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

int RunDemo(const app::Args& args) {
  app::Flags flags(args, {"data", "reference", "rules", "url"});
  if (!flags.ok()) return app::UsageError(flags.error());
  if (!flags.positional().empty()) return app::UsageError("caseledger-demo takes no positional arguments");
  auto data = flags.Get("data");
  if (!data || data->empty()) return app::UsageError("caseledger-demo needs --data DIR");
  const std::string reference_dir = flags.GetOr("reference", app::DefaultReferenceDir());
  auto reference = app::LoadReferenceData(reference_dir);
  if (!reference) return Failure(reference.error().message);
  auto rules = app::LoadRuleBook(flags.GetOr("rules", app::DefaultRulesDir()));
  if (!rules) return Failure(rules.error().message);
  api::ServiceOptions options;
  options.data_dir = *data;
  options.reference = *reference;
  options.rules = std::make_shared<const domain::RuleBook>(std::move(*rules));
  options.server.host = "127.0.0.1";
  options.server.port = 0;  // never served: the store is opened as serve opens it
  std::string error;
  auto service = api::Service::Open(options, &error);
  if (!service) return Failure(error);
  auto demo = PrepareDemo(*service, options, *reference, reference_dir);
  if (!demo) return 1;

  const std::string url = flags.GetOr("url", "http://127.0.0.1:8080");
  const std::string curl = "  curl -s -H \"Authorization: Bearer $TOKEN\" ";
  const std::string person = demo->person_id.empty() ? "PERSON_ID" : demo->person_id;
  const std::string tax_code = demo->tax_code.empty() ? "TAX_CODE" : demo->tax_code;
  std::cout << "demo tokens (valid 12 h):\n";
  for (size_t i = 0; i < demo->tokens.size(); ++i) {
    std::cout << "  " << DemoUsers()[i].subject << " (" << DemoUsers()[i].what << "):\n"
              << "    " << demo->tokens[i].second << "\n";
  }
  std::cout << "with TOKEN set to the demo-admin token (admin + auditor), once `caseledger serve --data "
            << *data << "` listens at " << url << ":\n"
            << "  export TOKEN=" << demo->tokens.front().second << "\n"
            << curl << url << "/v1/views/region/daily.csv\n"
            << curl << url << "/v1/views/municipalities/001272\n"
            << curl << "'" << url << "/v1/people?tax_code=" << tax_code << "'\n"
            << curl << url << "/v1/people/" << person << "/history\n";
  return std::cout.good() ? 0 : Failure("cannot write to stdout");
}

}  // namespace caseledger::tools
