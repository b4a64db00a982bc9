// serve --log-format json / --log-level: one parsable JSON object per line, whatever the
// message holds, and the level reaches loggers created after it was set.
#include "app/log_setup.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>

namespace caseledger::app {
namespace {

TEST(LogSetupTest, JsonLinesAreOneParsableObjectPerLine) {
  std::ostringstream out;
  auto logger = std::make_shared<spdlog::logger>("api", std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
  logger->set_formatter(JsonLinesFormatter());
  logger->warn("cannot open \"{}\": {}", "C:\\store", "line one\nline two\ttab \x01");
  logger->info("second");
  std::istringstream lines(out.str());
  std::string line;
  ASSERT_TRUE(std::getline(lines, line));
  boost::json::value first = boost::json::parse(line);
  EXPECT_EQ(first.at("level").as_string(), "warning");
  EXPECT_EQ(first.at("logger").as_string(), "api");
  EXPECT_EQ(first.at("message").as_string(), "cannot open \"C:\\store\": line one\nline two\ttab \x01");
  const std::string time(first.at("time").as_string());
  EXPECT_EQ(time.size(), std::string("2026-11-27T14:00:00.123456Z").size()) << time;
  EXPECT_EQ(time.back(), 'Z');
  ASSERT_TRUE(std::getline(lines, line));
  EXPECT_EQ(boost::json::parse(line).at("message").as_string(), "second");
  EXPECT_FALSE(std::getline(lines, line));
}

TEST(LogSetupTest, LevelAndFormatReachLoggersCreatedLater) {
  ConfigureLogs(spdlog::level::warn, LogFormat::kJson);
  auto later = spdlog::create<spdlog::sinks::null_sink_mt>("log-setup-test-later");
  EXPECT_EQ(later->level(), spdlog::level::warn);
  EXPECT_FALSE(later->should_log(spdlog::level::info));
  spdlog::drop("log-setup-test-later");
  spdlog::set_level(spdlog::level::info);
  spdlog::set_pattern("%+");
}

TEST(LogSetupTest, NamesParse) {
  EXPECT_EQ(ParseLogLevel("debug"), spdlog::level::debug);
  EXPECT_EQ(ParseLogLevel("error"), spdlog::level::err);
  EXPECT_EQ(ParseLogLevel("off"), spdlog::level::off);
  EXPECT_FALSE(ParseLogLevel("verbose"));
  EXPECT_FALSE(ParseLogLevel("INFO"));
  EXPECT_EQ(ParseLogFormat("json"), LogFormat::kJson);
  EXPECT_EQ(ParseLogFormat("text"), LogFormat::kText);
  EXPECT_FALSE(ParseLogFormat("JSON"));
}

}  // namespace
}  // namespace caseledger::app
