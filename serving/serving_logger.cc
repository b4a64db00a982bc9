#include "serving/serving_logger.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace caseledger::serving {

std::shared_ptr<spdlog::logger> ServingLog() {
  static std::shared_ptr<spdlog::logger> log = [] {
    if (auto existing = spdlog::get("serving")) return existing;
    return spdlog::stderr_color_mt("serving");
  }();
  return log;
}

}  // namespace caseledger::serving
