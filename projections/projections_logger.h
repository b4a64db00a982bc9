// The projections module's logger ("projections").
#pragma once

#include <spdlog/logger.h>

#include <memory>

namespace caseledger::projections {

std::shared_ptr<spdlog::logger> ProjectionsLog();

}  // namespace caseledger::projections
