// The eventstore module's logger ("eventstore").
#pragma once

#include <spdlog/logger.h>

#include <memory>

namespace caseledger::eventstore {

std::shared_ptr<spdlog::logger> StoreLog();

}  // namespace caseledger::eventstore
