#include "eventstore/rocks_info_log.h"

#include "eventstore/store_logger.h"

#include <rocksdb/env.h>

#include <cstdarg>
#include <cstdio>

namespace caseledger::eventstore {
namespace {

class SpdlogRocksLogger final : public rocksdb::Logger {
 public:
  SpdlogRocksLogger() : rocksdb::Logger(rocksdb::InfoLogLevel::INFO_LEVEL) {}
  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override { Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap); }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < GetInfoLogLevel()) return;
    char line[1024];
    std::vsnprintf(line, sizeof line, format, ap);
    switch (level) {
      case rocksdb::InfoLogLevel::DEBUG_LEVEL:
      case rocksdb::InfoLogLevel::INFO_LEVEL:
        StoreLog()->debug("rocksdb: {}", line);
        break;
      case rocksdb::InfoLogLevel::WARN_LEVEL:
        StoreLog()->warn("rocksdb: {}", line);
        break;
      default:
        StoreLog()->error("rocksdb: {}", line);
        break;
    }
  }
};

}  // namespace

std::shared_ptr<rocksdb::Logger> RocksInfoLog() {
  static const std::shared_ptr<rocksdb::Logger> logger = std::make_shared<SpdlogRocksLogger>();
  return logger;
}

}  // namespace caseledger::eventstore
