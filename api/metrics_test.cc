#include "api/metrics.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace caseledger::api {
namespace {

// The count Render() gives for one route, method and status (0 when absent).
long Count(const HttpMetrics& m, const std::string& route, const std::string& method, int status) {
  const std::string line = "caseledger_http_request_duration_seconds_count{route=\"" + route + "\",method=\"" +
                           method + "\",status=\"" + std::to_string(status) + "\"} ";
  const std::string text = m.Render();
  const size_t at = text.find(line);
  return at == std::string::npos ? 0 : std::stol(text.substr(at + line.size()));
}

// Each request lands in the histogram of its own route, method and status, however a
// thread's requests alternate between them and between metrics objects (a thread keeps its
// last histogram: it must never count into another key's or another object's).
TEST(HttpMetricsTest, EachRequestIsCountedUnderItsRouteMethodAndStatusAndObject) {
  HttpMetrics a, b;
  a.ObserveRequest("GET /v1/people/{id}", "GET", 200, 0.0001);
  a.ObserveRequest("GET /v1/people/{id}", "GET", 200, 0.0001);
  b.ObserveRequest("GET /v1/people/{id}", "GET", 200, 0.0001);
  a.ObserveRequest("GET /v1/people/{id}", "GET", 404, 0.0001);
  a.ObserveRequest("GET /v1/people/{id}", "HEAD", 200, 0.0001);
  a.ObserveRequest("GET /v1/people/{id}/history", "GET", 200, 0.0001);
  a.ObserveRequest("GET /v1/people/{id}", "GET", 200, 0.003);
  EXPECT_EQ(Count(a, "GET /v1/people/{id}", "GET", 200), 3);
  EXPECT_EQ(Count(a, "GET /v1/people/{id}", "GET", 404), 1);
  EXPECT_EQ(Count(a, "GET /v1/people/{id}", "HEAD", 200), 1);
  EXPECT_EQ(Count(a, "GET /v1/people/{id}/history", "GET", 200), 1);
  EXPECT_EQ(Count(b, "GET /v1/people/{id}", "GET", 200), 1);
  EXPECT_EQ(Count(b, "GET /v1/people/{id}", "GET", 404), 0);
  // The slow one is in the buckets from 5 ms up only.
  EXPECT_NE(a.Render().find("route=\"GET /v1/people/{id}\",method=\"GET\",status=\"200\",le=\"0.002\"} 2\n"),
            std::string::npos);
  EXPECT_NE(a.Render().find("route=\"GET /v1/people/{id}\",method=\"GET\",status=\"200\",le=\"0.005\"} 3\n"),
            std::string::npos);
}

TEST(HttpMetricsTest, AnObjectMadeWhereAnotherWasStartsFromNothing) {
  for (int i = 0; i < 3; ++i) {
    auto m = std::make_unique<HttpMetrics>();  // often at the address the last one freed
    m->ObserveRequest("GET /v1/me", "GET", 200, 0.0001);
    EXPECT_EQ(Count(*m, "GET /v1/me", "GET", 200), 1) << i;
  }
}

TEST(HttpMetricsTest, ThreadsCountIntoOneTotal) {
  HttpMetrics m;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&m, t] {
      for (int i = 0; i < 1000; ++i) m.ObserveRequest("GET /v1/me", "GET", (i + t) % 2 ? 200 : 304, 0.0001);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(Count(m, "GET /v1/me", "GET", 200), 2000);
  EXPECT_EQ(Count(m, "GET /v1/me", "GET", 304), 2000);
}

}  // namespace
}  // namespace caseledger::api
