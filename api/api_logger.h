// The api module's logger ("api").
#pragma once

#include <spdlog/logger.h>

#include <memory>

namespace caseledger::api {

std::shared_ptr<spdlog::logger> ApiLog();

}  // namespace caseledger::api
