#include "api/metrics.h"

#include <atomic>
#include <sstream>
#include <thread>

namespace caseledger::api {

namespace {
std::atomic<uint64_t> next_metrics_id{1};
}  // namespace

HttpMetrics::HttpMetrics() : id_(next_metrics_id.fetch_add(1, std::memory_order_relaxed)) {}

void HttpMetrics::ObserveRequest(std::string_view route, const char* method, int status,
                                 double seconds) {
  // A thread answers the same route, method and status again and again: its last histogram
  // is kept (by this object's id, never reused, so a destroyed object's is never taken),
  // where the map's look-up compared three keys per request. Entries are never erased, so
  // the pointer stays good while the object lives.
  struct Last {
    uint64_t metrics = 0;
    const Key* key = nullptr;
    Shard* shard = nullptr;
    Histogram* histogram = nullptr;
  };
  thread_local Last last;
  Shard* shard;
  Histogram* found = nullptr;
  if (last.metrics == id_ && std::get<2>(*last.key) == status && std::get<0>(*last.key) == route &&
      std::get<1>(*last.key) == method) {
    shard = last.shard;
    found = last.histogram;
  } else {
    // Threads take the shards in turn as they first observe (the server's I/O threads,
    // started together, each their own): a hash of the thread's id put two of them in one
    // shard, one lock for both, one time in kShards.
    static std::atomic<size_t> next_thread{0};
    thread_local const size_t this_thread = next_thread.fetch_add(1, std::memory_order_relaxed);
    shard = &shards_[this_thread % kShards];
  }
  std::lock_guard l(shard->mu);
  if (!found) {
    auto key = std::make_tuple(route, std::string_view(method), status);
    auto it = shard->requests.find(key);
    if (it == shard->requests.end()) {
      it = shard->requests.emplace(Key{std::string(route), std::string(method), status}, Histogram{}).first;
    }
    found = &it->second;
    last = {id_, &it->first, shard, found};
  }
  Histogram& h = *found;
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++h.buckets[i];
  }
  ++h.count;
  h.sum += seconds;
}

void HttpMetrics::AddGauge(std::string name, std::string help, std::function<double()> read) {
  std::lock_guard l(mu_);
  gauges_.push_back({std::move(name), std::move(help), "gauge", std::move(read)});
}

void HttpMetrics::AddCounter(std::string name, std::string help, std::function<double()> read) {
  std::lock_guard l(mu_);
  gauges_.push_back({std::move(name), std::move(help), "counter", std::move(read)});
}

std::string HttpMetrics::Render() const {
  std::map<Key, Histogram> requests;
  for (Shard& shard : shards_) {
    std::lock_guard l(shard.mu);
    for (const auto& [key, h] : shard.requests) {
      Histogram& sum = requests[key];
      for (size_t i = 0; i < kBuckets.size(); ++i) sum.buckets[i] += h.buckets[i];
      sum.count += h.count;
      sum.sum += h.sum;
    }
  }
  std::ostringstream out;
  std::lock_guard l(mu_);
  out << "# HELP caseledger_http_request_duration_seconds HTTP request latency by route and status.\n"
         "# TYPE caseledger_http_request_duration_seconds histogram\n";
  for (const auto& [key, h] : requests) {
    const auto& [route, method, status] = key;
    std::string labels = "route=\"" + route + "\",method=\"" + method + "\",status=\"" +
                         std::to_string(status) + "\"";
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      out << "caseledger_http_request_duration_seconds_bucket{" << labels << ",le=\"" << kBuckets[i]
          << "\"} " << h.buckets[i] << "\n";
    }
    out << "caseledger_http_request_duration_seconds_bucket{" << labels << ",le=\"+Inf\"} " << h.count
        << "\n";
    out << "caseledger_http_request_duration_seconds_sum{" << labels << "} " << h.sum << "\n";
    out << "caseledger_http_request_duration_seconds_count{" << labels << "} " << h.count << "\n";
  }
  for (const Gauge& g : gauges_) {
    out << "# HELP " << g.name << " " << g.help << "\n# TYPE " << g.name << " " << g.type << "\n"
        << g.name << " " << g.read() << "\n";
  }
  return out.str();
}

}  // namespace caseledger::api
