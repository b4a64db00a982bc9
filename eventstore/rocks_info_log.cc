#include "eventstore/rocks_info_log.h"

#include "eventstore/store_logger.h"

#include <rocksdb/env.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <string_view>
#include <system_error>

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
    const int n = std::vsnprintf(line, sizeof line, format, ap);
    std::string_view text(line, n < 0 ? 0 : std::min<size_t>(static_cast<size_t>(n), sizeof line - 1));
    while (!text.empty() && text.back() == '\n') text.remove_suffix(1);  // spdlog ends the line
    switch (level) {
      case rocksdb::InfoLogLevel::DEBUG_LEVEL:
      case rocksdb::InfoLogLevel::INFO_LEVEL:
        StoreLog()->debug("rocksdb: {}", text);
        break;
      case rocksdb::InfoLogLevel::WARN_LEVEL:
        StoreLog()->warn("rocksdb: {}", text);
        break;
      default:
        StoreLog()->error("rocksdb: {}", text);
        break;
    }
  }
};

}  // namespace

std::shared_ptr<rocksdb::Logger> RocksInfoLog() {
  static const std::shared_ptr<rocksdb::Logger> logger = std::make_shared<SpdlogRocksLogger>();
  return logger;
}

void CreateDatabaseDirectory(const std::string& path) {
  std::error_code ignored;  // DB::Open says what is wrong with the path
  std::filesystem::create_directories(path, ignored);
}

}  // namespace caseledger::eventstore
