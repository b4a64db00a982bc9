// caseledger grant --data DIR --sub ID --role ROLE [--scope VALUE] [--revoke]: records an
// AccessGranted (or AccessRevoked) in the store offline, so that the first admin can be
// created before any token is accepted (docs/cli.md). The store must not be open in a server
// (RocksDB holds a lock; the command then fails and says so).
#include "api/grants.h"
#include "app/commands.h"
#include "app/flags.h"
#include "app/reference_files.h"
#include "eventstore/event_store.h"

#include <chrono>
#include <filesystem>
#include <iostream>

namespace caseledger::app {

int RunGrant(const Args& args) {
  Flags flags(args, {"data", "sub", "role", "scope", "revoke", "reference"}, {"revoke"});
  if (!flags.ok()) return UsageError(flags.error());
  if (!flags.positional().empty()) return UsageError("grant takes no positional arguments");
  auto data = flags.Get("data");
  auto sub = flags.Get("sub");
  auto role = flags.Get("role");
  if (!data || data->empty()) return UsageError("grant needs --data DIR");
  if (!sub || !api::ValidSubject(*sub)) return UsageError("grant needs --sub ID (1-128 printable characters, no spaces)");
  if (!role) return UsageError("grant needs --role operator|lab|gp|school|mayor|auditor|admin");
  auto reference = LoadReferenceData(flags.GetOr("reference", DefaultReferenceDir()));
  if (!reference) return Failure(reference.error().message);
  auto grant = domain::ValidateGrant(*role, flags.GetOr("scope", ""), **reference);
  if (!grant) {
    const auto& e = grant.error();
    return UsageError("--" + (e.fields.empty() ? std::string("role") : e.fields.front().field) + " " + e.message);
  }

  std::error_code ec;
  std::filesystem::create_directories(*data, ec);  // the first admin may come before the first start
  if (ec) return Failure("cannot create " + *data + ": " + ec.message());
  eventstore::StoreOptions options;
  options.path = *data + "/store";
  auto store = eventstore::EventStore::Open(options);
  if (!store) return Failure("cannot open store " + options.path + ": " + store.error().message);
  auto now = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch());
  bool revoke = flags.Has("revoke");
  auto change = api::RecordGrant(**store, *sub, *grant, revoke, {"caseledger-grant", "admin"},
                                 domain::Timestamp{now.count()});
  if (!change) return Failure(change.error().message);
  std::cout << (revoke ? "revoked " : "granted ") << domain::ToString(grant->role)
            << (grant->scope.empty() ? "" : " " + grant->scope) << (revoke ? " from " : " to ") << *sub
            << (change->changed ? " at position " + std::to_string(change->position) : " (unchanged)") << "\n";
  return 0;
}

}  // namespace caseledger::app
