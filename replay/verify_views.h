// `caseledger verify`, views part: the live views database (DATA/views.live) against a
// from-scratch rebuild of the same views, with the same rule book, up to the live views'
// checkpoint. Every entry (view entries, person directory records, checkpoint) must be
// byte-equal: the views' encodings are canonical, so equal state gives equal bytes.
#pragma once

#include "domain/reference.h"
#include "eventstore/event_store.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace caseledger::replay {

struct ViewsVerifyOptions {
  std::string data_dir;
  std::shared_ptr<const domain::ReferenceData> reference;
  // Where the rebuild goes (work_dir/verify-views, removed before and after); default data_dir.
  std::string work_dir;
  std::function<void(const std::string&)> progress;
};

struct ViewsVerifyReport {
  std::string views_dir;  // the live views checked
  uint64_t checkpoint = 0;
  uint64_t entries_checked = 0;
  std::string first_bad_key;  // empty when every entry matched
  std::string problem;
  bool ok() const { return problem.empty(); }
};

// Errors are for what stops the check (no views, unreadable databases); a mismatch is a
// report with a problem.
eventstore::StoreResult<ViewsVerifyReport> VerifyViews(eventstore::EventStore& store,
                                                       const ViewsVerifyOptions& options);

}  // namespace caseledger::replay
