// The serving module's logger ("serving").
#pragma once

#include <spdlog/logger.h>

#include <memory>

namespace caseledger::serving {

std::shared_ptr<spdlog::logger> ServingLog();

}  // namespace caseledger::serving
