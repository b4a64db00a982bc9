// A start far behind the log (the views deleted, or a store bulk-loaded): the port opens
// before the views have caught up, /healthz, /readyz and /metrics answer with where the
// catch-up stands, every route that needs a token answers 503 "starting" and changes
// nothing; once caught up, every route answers.
#include "domain/tax_code.h"
#include "domain/time.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_server.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <filesystem>
#include <optional>

namespace caseledger::testing {
namespace {

std::string RegisterBody(const std::string& family, const std::string& given) {
  std::string code = domain::ComposeTaxCode(family, given, *domain::Date::Parse("1970-04-02"), 'F', "L219");
  boost::json::object o{{"tax_code", code},       {"family_name", family}, {"given_names", given},
                        {"birth_date", "1970-04-02"}, {"sex", "F"},        {"residence_istat", "001272"}};
  return boost::json::serialize(o);
}

// The metric's value in a /metrics text (nullopt: absent).
std::optional<double> Metric(const std::string& text, const std::string& name) {
  const std::string line = "\n" + name + " ";
  auto at = text.find(line);
  if (at == std::string::npos) return std::nullopt;
  return std::stod(text.substr(at + line.size(), text.find('\n', at + line.size()) - at - line.size()));
}

TEST(StartupTest, AStartFarBehindAnswersReadinessWithItsCatchUpAndRefusesTheRestUntilReady) {
  TempDir dir;
  const std::string data = dir.Sub("data");
  std::string token, person;
  uint64_t committed = 0;
  {
    TestServer first([&](api::ServiceOptions& o) { o.data_dir = data; });
    HttpClient http(first.port());
    token = first.Token();
    for (int i = 0; i < 3; ++i) {
      auto reg = http.Post("/v1/people", RegisterBody("Gallo", std::string("Paola") + char('A' + i)), token);
      ASSERT_EQ(reg.status, 201) << reg.body;
      person = std::string(reg.Json().at("person_id").as_string());
    }
    committed = first.service().store().CommittedPosition();
  }
  // The views go: the next start catches them up from position 1.
  namespace fs = std::filesystem;
  for (const auto& entry : fs::directory_iterator(data)) {
    if (entry.path().filename().string().starts_with("views")) fs::remove_all(entry.path());
  }

  bool called = false;
  auto during_catch_up = [&](uint16_t port) {
    called = true;
    HttpClient http(port);
    EXPECT_EQ(http.Send("GET", "/healthz").status, 200);

    auto ready = http.Send("GET", "/readyz");
    EXPECT_EQ(ready.status, 503) << ready.body;
    EXPECT_EQ(ready.Header("retry-after"), "5");
    auto body = ready.Json();
    ASSERT_TRUE(body.is_object()) << ready.body;
    EXPECT_EQ(body.at("status"), "starting");
    EXPECT_EQ(body.at("committed_position").to_number<uint64_t>(), committed);
    EXPECT_EQ(body.at("catch_up").at("target").to_number<uint64_t>(), committed);
    EXPECT_EQ(body.at("catch_up").at("position").to_number<uint64_t>(), 0u);
    EXPECT_EQ(body.at("views_position").to_number<uint64_t>(), 0u);
    EXPECT_EQ(body.at("catch_up").at("eta_seconds").to_number<double>(), -1.0);

    auto metrics = http.Send("GET", "/metrics");
    EXPECT_EQ(metrics.status, 200);
    EXPECT_EQ(Metric(metrics.body, "caseledger_views_catching_up"), 1.0) << metrics.body;

    auto read = http.Get("/v1/people/" + person, token);
    EXPECT_EQ(read.status, 503) << read.body;
    EXPECT_NE(read.body.find("starting"), std::string::npos) << read.body;
    EXPECT_EQ(read.Header("content-type"), "application/problem+json");
    auto view = http.Get("/v1/views/region", token);
    EXPECT_EQ(view.status, 503) << view.body;
    auto reg = http.Post("/v1/people", RegisterBody("Rossi", "Anna"), token);
    EXPECT_EQ(reg.status, 503) << reg.body;
    // A path that does not exist stays 404: the routes are there, they wait.
    EXPECT_EQ(http.Get("/v1/no-such-thing", token).status, 404);
  };
  TestServer second([&](api::ServiceOptions& o) {
    o.data_dir = data;
    o.on_listening = during_catch_up;
  });
  ASSERT_TRUE(called);

  // The refused command wrote nothing (the second start granted its subject again).
  HttpClient http(second.port());
  auto ready = http.Send("GET", "/readyz");
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_EQ(ready.Json().at("status"), "ready");
  EXPECT_EQ(ready.Json().as_object().count("catch_up"), 0u);
  EXPECT_EQ(Metric(http.Send("GET", "/metrics").body, "caseledger_views_catching_up"), 0.0);
  auto read = http.Get("/v1/people/" + person, token);
  EXPECT_EQ(read.status, 200) << read.body;
  auto found = http.Get("/v1/people?tax_code=" +
                            domain::ComposeTaxCode("Rossi", "Anna", *domain::Date::Parse("1970-04-02"), 'F', "L219"),
                        token);
  EXPECT_EQ(found.status, 404) << found.body;
  EXPECT_EQ(http.Get("/v1/views/region", token).status, 200);
}

}  // namespace
}  // namespace caseledger::testing
