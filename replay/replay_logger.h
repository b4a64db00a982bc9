// The replay module's logger ("replay").
#pragma once

#include <spdlog/logger.h>

#include <memory>

namespace caseledger::replay {

std::shared_ptr<spdlog::logger> ReplayLog();

}  // namespace caseledger::replay
