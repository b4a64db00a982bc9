// What the routes share: the store, reference data, rules, clock and id source. Owned by
// the serve command; routes hold a const reference to it.
#pragma once

#include "domain/reference.h"
#include "domain/rules.h"
#include "domain/time.h"
#include "eventstore/event_store.h"

#include <functional>
#include <memory>
#include <string>

namespace caseledger::projections {
class ViewRunner;
}
namespace caseledger::eventstore {
class AccessLog;
}

namespace caseledger::api {

class GrantTable;
class PersonCache;
class HttpMetrics;
class SseHub;

struct ApiContext {
  eventstore::EventStore* store = nullptr;
  std::shared_ptr<const domain::ReferenceData> reference;
  std::shared_ptr<const domain::RuleBook> rules;
  HttpMetrics* metrics = nullptr;
  const projections::ViewRunner* views = nullptr;  // the read views
  SseHub* sse = nullptr;         // view change announcements
  GrantTable* grants = nullptr;  // who holds which role (the users stream)
  eventstore::AccessLog* access_log = nullptr;  // reads of personal data; null: not kept
  PersonCache* people = nullptr;  // current person states; null: fold on every request
  std::function<domain::Timestamp()> clock;
  std::function<std::string()> new_id;  // a fresh ULID
};

// A 26-character Crockford base32 ULID from the given time and libsodium randomness.
std::string NewUlid(domain::Timestamp now);

}  // namespace caseledger::api
