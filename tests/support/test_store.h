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

// One 200-byte "TestEvent" appended to `stream` by an operator, expecting the stream at
// `expected_version` (0: the stream does not exist yet). Why: the closed-loop append tests
// made this request with the same lines each (duplicates --change, session 31).
inline eventstore::AppendRequest OneEventRequest(const std::string& stream, uint64_t expected_version) {
  eventstore::AppendRequest r;
  r.stream = stream;
  r.expected = expected_version == 0 ? eventstore::ExpectedVersion::NoStream()
                                     : eventstore::ExpectedVersion::Exactly(expected_version);
  r.events.push_back({"TestEvent", 1, std::string(200, 'x'), "", eventstore::Timestamp{1'600'000'000'000'000}});
  r.actor = {"op-1", "operator"};
  return r;
}

}  // namespace caseledger::testing
