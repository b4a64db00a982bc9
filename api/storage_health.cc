#include "api/storage_health.h"

#include "api/metrics.h"
#include "eventstore/access_log.h"
#include "eventstore/disk_space.h"
#include "serving/live_views.h"

#include <boost/json.hpp>

namespace caseledger::api {
namespace {

const char* Slug(const eventstore::StoreError& e) {
  return e.code == eventstore::StoreErrorCode::kNoSpace ? "insufficient-storage" : "store-unavailable";
}

}  // namespace

bool StorageAcceptsWrites(const ApiContext& ctx) {
  if (ctx.store && ctx.store->WriteRefusal()) return false;
  return !(ctx.access_log && ctx.access_log->WriteRefusal());
}

std::string StorageStatusJson(const ApiContext& ctx) {
  boost::json::object writes;
  auto refused = ctx.store ? ctx.store->WriteRefusal() : std::nullopt;
  writes["accepted"] = !refused;
  if (refused) {
    writes["problem"] = Slug(*refused);
    writes["reason"] = refused->message;
  }
  if (auto access = ctx.access_log ? ctx.access_log->WriteRefusal() : std::nullopt) {
    writes["access_log"] = {{"accepted", false}, {"problem", Slug(*access)}, {"reason", access->message},
                            {"personal_reads", "refused"}};
  }
  if (std::string paused = ctx.views ? ctx.views->paused() : ""; !paused.empty()) {
    writes["views"] = {{"paused", true}, {"reason", paused}};
  }
  return "\"writes\":" + boost::json::serialize(writes);
}

void AddStorageGauges(HttpMetrics& metrics, const ApiContext& ctx, const std::string& data_dir,
                      uint64_t min_free_bytes) {
  const eventstore::EventStore* store = ctx.store;
  const eventstore::AccessLog* access = ctx.access_log;
  const serving::LiveViews* views = ctx.views;
  metrics.AddGauge("caseledger_store_writes_refused",
                   "1 while the store refuses appends (see /readyz for why).",
                   [store] { return store->WriteRefusal() ? 1.0 : 0.0; });
  metrics.AddGauge("caseledger_store_writes_refused_no_space",
                   "1 while the store refuses appends for lack of space (answers 507).", [store] {
                     auto r = store->WriteRefusal();
                     return r && r->code == eventstore::StoreErrorCode::kNoSpace ? 1.0 : 0.0;
                   });
  if (access) {
    metrics.AddGauge("caseledger_access_log_writes_refused",
                     "1 while access records cannot be written (reads of personal data are refused).",
                     [access] { return access->WriteRefusal() ? 1.0 : 0.0; });
  }
  if (views) {
    metrics.AddGauge("caseledger_views_paused_no_space", "1 while the views apply nothing for lack of space.",
                     [views] { return views->paused().empty() ? 0.0 : 1.0; });
  }
  metrics.AddGauge("caseledger_data_free_bytes", "Bytes available on the data directory's volume.", [data_dir] {
    auto n = eventstore::AvailableBytes(data_dir);
    return n ? double(*n) : -1.0;
  });
  metrics.AddGauge("caseledger_data_min_free_bytes", "The free-space floor below which writes are refused.",
                   [min_free_bytes] { return double(min_free_bytes); });
}

}  // namespace caseledger::api
