#include "api/metrics.h"

#include <sstream>

namespace caseledger::api {

void HttpMetrics::ObserveRequest(const std::string& route, const char* method, int status,
                                 double seconds) {
  std::lock_guard l(mu_);
  Histogram& h = requests_[{route, method, status}];
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
  std::ostringstream out;
  std::lock_guard l(mu_);
  out << "# HELP caseledger_http_request_duration_seconds HTTP request latency by route and status.\n"
         "# TYPE caseledger_http_request_duration_seconds histogram\n";
  for (const auto& [key, h] : requests_) {
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
