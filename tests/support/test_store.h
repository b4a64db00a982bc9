// A store opened by a test, laid out as a data directory is (`serve --data DIR`: the log in
// DIR/store, its master key in DIR/master.key). Why: test files opened their stores with
// the same five lines each (duplicates --change, sessions 21-22).
#pragma once

#include "eventstore/event_store.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace caseledger::testing {

// The options of the store in data directory `data`, everything else the defaults.
inline eventstore::StoreOptions StoreOptionsIn(const std::string& data) {
  eventstore::StoreOptions o;
  o.path = data + "/store";
  o.master_key_path = data + "/master.key";
  return o;
}

// Opens the store of `options` (creating it unless options.create_if_missing is false). On
// failure the calling test fails with the store's message, and the result is null.
inline std::unique_ptr<eventstore::EventStore> OpenTestStore(const eventstore::StoreOptions& options) {
  auto store = eventstore::EventStore::Open(options);
  EXPECT_TRUE(store) << store.error().message;
  return store ? std::move(*store) : nullptr;
}

}  // namespace caseledger::testing
