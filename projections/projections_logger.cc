#include "projections/projections_logger.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace caseledger::projections {

std::shared_ptr<spdlog::logger> ProjectionsLog() {
  static std::shared_ptr<spdlog::logger> log = [] {
    if (auto existing = spdlog::get("projections")) return existing;
    return spdlog::stderr_color_mt("projections");
  }();
  return log;
}

}  // namespace caseledger::projections
