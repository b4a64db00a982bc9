// HTTP metrics in Prometheus text format: request counts and latency histograms by route
// and status. Other modules add their gauges through `AddGauge`.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace caseledger::api {

class HttpMetrics {
 public:
  HttpMetrics();
  HttpMetrics(const HttpMetrics&) = delete;
  HttpMetrics& operator=(const HttpMetrics&) = delete;
  // Thread-safe; threads take different locks (the histograms are sharded by thread, each
  // of the first kShards threads to observe its own shard, and merged by Render()).
  void ObserveRequest(std::string_view route, const char* method, int status, double seconds);
  // A gauge or counter read at scrape time (e.g. the committed position).
  void AddGauge(std::string name, std::string help, std::function<double()> read);
  void AddCounter(std::string name, std::string help, std::function<double()> read);
  std::string Render() const;

 private:
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02,
                                                      0.05,   0.1,   0.25,  0.5,   1.0,  2.5};
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> buckets{};
    uint64_t count = 0;
    double sum = 0;
  };
  struct Gauge {
    std::string name, help, type;
    std::function<double()> read;
  };
  using Key = std::tuple<std::string, std::string, int>;
  // In cache lines of its own: two threads' shards side by side shared one, which both
  // wrote on every request (the locks).
  struct alignas(64) Shard {
    std::mutex mu;
    std::map<Key, Histogram, std::less<>> requests;  // found by string_views, no copies
  };
  static constexpr size_t kShards = 8;
  mutable std::array<Shard, kShards> shards_;
  const uint64_t id_;  // unique per object, for ObserveRequest's per-thread look-up
  mutable std::mutex mu_;  // gauges_
  std::vector<Gauge> gauges_;
};

}  // namespace caseledger::api
