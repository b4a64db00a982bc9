// What the routes share: the store, reference data, the live views (with the rule book
// they were built with), clock and id source. Owned by the serve command; routes hold a
// const reference to it.
#pragma once

#include "domain/reference.h"
#include "domain/rules.h"
#include "domain/time.h"
#include "eventstore/event_store.h"

#include <functional>
#include <memory>
#include <string>

namespace caseledger::serving {
class LiveViews;
}
namespace caseledger::eventstore {
class AccessLog;
}

namespace caseledger::api {

class GrantTable;
class SchoolRegistry;
class PersonCache;
class HttpMetrics;
class SseHub;

struct ApiContext {
  eventstore::EventStore* store = nullptr;
  std::shared_ptr<const domain::ReferenceData> reference;
  HttpMetrics* metrics = nullptr;
  // The read views and their rule book, switched blue-green when rules are adopted: take
  // views->Current() once per answer and read everything from it.
  serving::LiveViews* views = nullptr;
  size_t whatif_memory_budget = 0;  // a dry run's (replay::WhatIfOptions::memory_budget)
  SseHub* sse = nullptr;         // view change announcements
  GrantTable* grants = nullptr;  // who holds which role (the users stream)
  SchoolRegistry* schools = nullptr;  // where schools are (DATA_DIR/schools.csv); null: nowhere
  eventstore::AccessLog* access_log = nullptr;  // reads of personal data; null: not kept
  PersonCache* people = nullptr;  // current person states; null: fold on every request
  std::function<domain::Timestamp()> clock;
  std::function<std::string()> new_id;  // a fresh ULID
  // While the views catch up at start: /readyz's members `"views_position":..,"catch_up":{...}`; "" once they
  // answer (then every other field may be read). Null: no such phase (tests).
  std::function<std::string()> startup_status;
  // A warm standby's state for /readyz: a JSON member (`"standby":{...}`), or "" (none).
  std::function<std::string()> standby_status;
};

// A 26-character Crockford base32 ULID from the given time and libsodium randomness.
std::string NewUlid(domain::Timestamp now);

}  // namespace caseledger::api
