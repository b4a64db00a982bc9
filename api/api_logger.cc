#include "api/api_logger.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace caseledger::api {

std::shared_ptr<spdlog::logger> ApiLog() {
  static std::shared_ptr<spdlog::logger> log = [] {
    if (auto existing = spdlog::get("api")) return existing;
    return spdlog::stderr_color_mt("api");
  }();
  return log;
}

}  // namespace caseledger::api
