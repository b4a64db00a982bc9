#include "replay/replay_logger.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace caseledger::replay {

std::shared_ptr<spdlog::logger> ReplayLog() {
  static std::shared_ptr<spdlog::logger> log = [] {
    if (auto existing = spdlog::get("replay")) return existing;
    return spdlog::stderr_color_mt("replay");
  }();
  return log;
}

}  // namespace caseledger::replay
