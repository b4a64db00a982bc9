// An HTTP/1.1 load engine for `caseledger-loadgen`: N keep-alive connections (Asio/Beast,
// one request in flight per connection), driven either open loop at a constant rate or
// closed loop as fast as the server answers.
//
// Open loop (rate > 0): request i is intended at t0 + i/rate whether or not the previous
// ones were answered; an intended request waits in a queue until a connection is free, and
// its latency runs from its intended time, so a stall of the server (or of this client) is
// counted against every request it delayed instead of being hidden by sending less
// (coordinated omission). Closed loop (rate == 0): each connection sends its next request
// when the previous answer arrived; latency is the service time.
//
// Timeline: connections are opened first; then `warmup` seconds, then the measured window
// of `seconds`, then at most `drain` seconds for the window's requests still queued or in
// flight. Requests intended in the window are the samples; requests still unanswered at the
// end of the drain are counted as unfinished and recorded at the time they had waited.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "workload/latency_histogram.h"

namespace caseledger::workload {

struct HttpTarget {
  std::string host = "127.0.0.1";
  std::string port = "8080";
  std::string bearer_token;  // sent as "Authorization: Bearer ..." when not empty
};

// One request to send. `tag` is the workload's own: it comes back in Completed().
struct LoadRequest {
  bool post = false;
  std::string target;  // path and query
  std::string body;    // JSON, for POST
  uint64_t tag = 0;
};

// What a run sends. Each engine thread owns one workload; it is only called on that
// thread, so it needs no locking.
class Workload {
 public:
  virtual ~Workload() = default;
  // The next request, or nullopt when there is nothing to send right now.
  virtual std::optional<LoadRequest> Next() = 0;
  // The answer to a request from Next(); status 0 when the connection failed instead.
  virtual void Completed(const LoadRequest& request, int status, std::string_view body) = 0;
  // True once the workload will never again have a request (limited setup phases). A
  // connection that finds nothing to send waits briefly and asks again until then.
  virtual bool Finished() const { return false; }
};

struct LoadOptions {
  int connections = 64;
  int threads = 1;      // engine threads; connections and rate are divided between them
  double rate = 0;      // requests per second over all connections; 0: closed loop
  double warmup = 2;    // seconds before the measured window
  double seconds = 10;  // the measured window
  double drain = 5;     // seconds after the window, at most, for its outstanding requests
};

struct LoadResult {
  LatencyHistogram latency_ns;             // requests intended in the window
  std::map<int, uint64_t> statuses;        // their answers by status; 0: connection failures
  uint64_t answered_in_window = 0;         // answers (any status) that arrived in the window
  uint64_t unfinished = 0;                 // window requests unanswered when the drain ended
  uint64_t body_bytes = 0;                 // of the window's answers
  uint64_t skipped = 0;                    // open-loop slots with nothing to send
  std::vector<std::string> error_samples;  // a few non-2xx answers: "status body"
  std::string fatal;                       // not empty: the run could not be made

  // Requests intended in the window that got a 2xx answer.
  uint64_t ok() const;
  // Everything else intended in the window: non-2xx, connection failures, unfinished.
  uint64_t errors() const;
};

// Runs one load. `make_workload(i)` is called once per engine thread i (0-based) before
// any connection opens; the workloads are destroyed before RunLoad returns unless the
// caller keeps them (e.g. to read what a setup phase registered) through `keep`.
LoadResult RunLoad(const HttpTarget& target, const LoadOptions& options,
                   const std::function<std::unique_ptr<Workload>(int thread)>& make_workload,
                   std::vector<std::unique_ptr<Workload>>* keep = nullptr);

// Parses "http://HOST:PORT" (an optional trailing "/" allowed) into host and port.
std::optional<HttpTarget> ParseHttpUrl(std::string_view url);

}  // namespace caseledger::workload
