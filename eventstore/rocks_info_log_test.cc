// RocksDB's info log as the operator reads it: a first start in an empty data directory
// logs no error, and RocksDB's lines carry no newline of their own.
#include "eventstore/rocks_info_log.h"

#include "eventstore/access_log.h"
#include "eventstore/event_store.h"
#include "eventstore/store_logger.h"
#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>
#include <rocksdb/env.h>
#include <spdlog/sinks/ostream_sink.h>

#include <algorithm>
#include <sstream>

namespace caseledger::eventstore {
namespace {

using caseledger::testing::TempDir;

// Copies what the "eventstore" logger writes at `level` and above while it lives.
class CapturedStoreLog {
 public:
  explicit CapturedStoreLog(spdlog::level::level_enum level)
      : sink_(std::make_shared<spdlog::sinks::ostream_sink_mt>(out_)), level_(StoreLog()->level()) {
    sink_->set_level(level);
    sink_->set_pattern("%l %v");
    StoreLog()->sinks().push_back(sink_);
    if (level < level_) StoreLog()->set_level(level);
  }
  ~CapturedStoreLog() {
    auto& sinks = StoreLog()->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_), sinks.end());
    StoreLog()->set_level(level_);
  }
  std::string Text() const { return out_.str(); }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
  spdlog::level::level_enum level_;
};

TEST(RocksInfoLogTest, AFirstStartInAnEmptyDirectoryLogsNoWarningOrError) {
  TempDir dir;
  CapturedStoreLog log(spdlog::level::warn);
  {
    StoreOptions o;
    o.path = dir.Sub("data/store");  // neither it nor its parent exists yet
    auto store = EventStore::Open(o);
    ASSERT_TRUE(store) << store.error().message;
  }
  {
    AccessLogOptions o;
    o.path = dir.Sub("data/access");
    auto access = AccessLog::Open(o);
    ASSERT_TRUE(access) << access.error().message;
  }
  EXPECT_EQ(log.Text(), "");
}

TEST(RocksInfoLogTest, RocksDbsTrailingNewlineIsNotWrittenAsAnEmptyLine) {
  CapturedStoreLog log(spdlog::level::err);
  rocksdb::Log(rocksdb::InfoLogLevel::ERROR_LEVEL, RocksInfoLog(), "Error when reading %s dir %s\n", "/x", "y");
  EXPECT_EQ(log.Text(), "error rocksdb: Error when reading /x dir y\n");
}

}  // namespace
}  // namespace caseledger::eventstore
