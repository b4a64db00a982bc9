#include "eventstore/store_logger.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace caseledger::eventstore {

std::shared_ptr<spdlog::logger> StoreLog() {
  static std::shared_ptr<spdlog::logger> log = [] {
    if (auto existing = spdlog::get("eventstore")) return existing;
    return spdlog::stderr_color_mt("eventstore");
  }();
  return log;
}

}  // namespace caseledger::eventstore
