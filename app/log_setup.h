// serve's log options (docs/operations.md: structured logs with a JSON lines option). Every module
// has its own logger, created on first use through spdlog's registry; what is set here
// applies to the loggers that exist and to those created later.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <optional>
#include <string_view>

namespace caseledger::app {

enum class LogFormat { kText, kJson };

// "trace", "debug", "info", "warn", "error" or "off"; nullopt otherwise.
std::optional<spdlog::level::level_enum> ParseLogLevel(std::string_view name);
// "text" or "json"; nullopt otherwise.
std::optional<LogFormat> ParseLogFormat(std::string_view name);

// One JSON object per line, times in UTC:
// {"time":"2026-11-27T14:00:00.123456Z","level":"info","logger":"api","message":"..."}
// with the message escaped as a JSON string.
std::unique_ptr<spdlog::formatter> JsonLinesFormatter();

// Sets the level and format of every logger, present and future. Call before serving
// (spdlog's registry is process-wide).
void ConfigureLogs(spdlog::level::level_enum level, LogFormat format);

}  // namespace caseledger::app
