// The access log's test fixture and helpers, shared by access_log_test.cc and
// access_log_format_test.cc (the stored formats' upgrades).
#pragma once

#include "eventstore/access_log.h"
#include "eventstore/record_format.h"
#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace caseledger::eventstore {

using caseledger::testing::TempDir;

inline constexpr int64_t kDay = 86'400'000'000;

class AccessLogTest : public ::testing::Test {
 protected:
  std::unique_ptr<AccessLog> Open() {
    AccessLogOptions o;
    o.path = dir_.Sub("access");
    o.flush_interval = std::chrono::milliseconds(20);
    o.retention_days = 30;
    o.clock = [this] { return domain::Timestamp{now_.load()}; };
    auto log = AccessLog::Open(o);
    EXPECT_TRUE(log) << (log ? "" : log.error().message);
    return log ? std::move(*log) : nullptr;
  }
  AccessRecord Read(const std::string& who, const std::string& person, int64_t at) {
    return {domain::Timestamp{at}, who, "operator", person, "GET /v1/people/{id}", 200};
  }

  TempDir dir_;
  std::atomic<int64_t> now_{1'700'000'000'000'000};
};

// The "r" keys of the access database and their values, in order.
inline std::vector<std::pair<uint64_t, std::string>> RecordEntries(const std::string& path) {
  rocksdb::DB* raw = nullptr;
  EXPECT_TRUE(rocksdb::DB::OpenForReadOnly(rocksdb::Options(), path, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  std::vector<std::pair<uint64_t, std::string>> out;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek("r"); it->Valid() && it->key().starts_with("r"); it->Next()) {
    out.emplace_back(format::DecodeFixed64BE(it->key().data() + 1), it->value().ToString());
  }
  return out;
}

}  // namespace caseledger::eventstore
