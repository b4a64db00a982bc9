// Which views database is live: DATA/views.live, a one-line file naming the directory
// (under DATA) that holds the live views and the position of the last RulesAdopted their
// rule book includes:
//
//   views-r000000000123 123
//
// It is replaced atomically (write a temporary file, fsync, rename over, fsync the
// directory), so after a crash at any moment it names either the old or the new views,
// both complete databases; a rebuild in progress is never named. Without the file the
// views are in DATA/views (stores from before rule adoption) and were built with the whole
// book of the log. Written by the live views (serving/live_views.h); read by them and by
// `caseledger verify` (replay/verify_views.h).
#pragma once

#include "eventstore/event_store.h"

#include <cstdint>
#include <optional>
#include <string>

namespace caseledger::projections {

struct ViewsPointer {
  std::string dir = "views";   // relative to the data directory
  uint64_t rules_position = 0;  // position of the last RulesAdopted in the book the views use
  bool operator==(const ViewsPointer&) const = default;
};

// nullopt when there is no pointer file; kCorruption when it does not parse.
eventstore::StoreResult<std::optional<ViewsPointer>> ReadViewsPointer(const std::string& data_dir);
eventstore::StoreResult<void> WriteViewsPointer(const std::string& data_dir, const ViewsPointer& pointer);

// The directory name of views built with the book up to `rules_position`.
std::string ViewsDirFor(uint64_t rules_position);

}  // namespace caseledger::projections
