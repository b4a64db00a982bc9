// What the NATS tests share: a command workload over HTTP whose personal data is known
// (to scan the stream for it), a reader of every message of the JetStream stream, and
// the list of view URLs whose answers a replica must reproduce.
#pragma once

#include "tests/support/test_server.h"

#include <sys/types.h>

#include <csignal>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace caseledger::testing {

// People registered with a GP, a school, one swab collected and its result: six commands
// (six events) each, spread over five municipalities of five ASLs, two labs.
class CaseWorkload {
 public:
  // People are numbered from `first_person` (tax codes and swab ids derive from it, so
  // two workloads on one store need disjoint ranges).
  CaseWorkload(uint16_t port, std::string token, int threads, int first_person = 0);
  ~CaseWorkload();  // Stop()

  // Runs until `people` people were tried (or Stop()), on `threads` clients in background.
  void Start(int people);
  void Wait();
  void Stop();
  // Runs `people` people on the calling thread's workers and waits.
  void Run(int people) {
    Start(people);
    Wait();
  }

  int people_done() const { return done_.load(); }
  int failures() const { return failures_.load(); }
  std::string first_failure() const;
  uint64_t last_position() const { return last_position_.load(); }
  // Tax codes and family names used so far (for the personal-data scan).
  std::vector<std::string> PersonalValues() const;
  // Every position a command's 201 answer gave (acknowledged), and the registrations
  // acknowledged: tax code, family name, person id, position.
  struct Registration {
    std::string tax_code, family_name, person_id;
    uint64_t position = 0;
  };
  std::vector<uint64_t> AcknowledgedPositions() const;
  std::vector<Registration> Registrations() const;

  static const std::vector<std::string>& Municipalities();
  static const std::vector<std::string>& Asls();
  static const std::vector<std::string>& Labs();
  static const std::vector<std::string>& Gps();
  static const std::vector<std::string>& Schools();

 private:
  void Worker(int people);
  bool OnePerson(HttpClient& http, int n);

  uint16_t port_;
  std::string token_;
  int threads_;
  int first_person_;
  std::vector<std::thread> workers_;
  std::atomic<bool> stop_{false};
  std::atomic<int> next_{0};
  std::atomic<int> done_{0};
  std::atomic<int> failures_{0};
  std::atomic<uint64_t> last_position_{0};
  mutable std::mutex mu_;
  std::string first_failure_;
  std::vector<std::string> personal_;
  std::vector<uint64_t> acknowledged_;
  std::vector<Registration> registrations_;
};

struct RelayedMessage {
  uint64_t seq = 0;
  std::string subject;
  std::string msg_id;
  uint64_t position = 0;
  std::string stream, type, schema_version;
  std::string data;
};

// Every message of `stream`, by stream sequence (fails the test on error).
std::vector<RelayedMessage> ReadStream(const std::vector<std::string>& urls, const std::string& stream);
// The name of the server leading `stream` ("n2"), or "" when unknown.
std::string StreamLeader(const std::vector<std::string>& urls, const std::string& stream);
// Checks that the stream holds positions 1..last, each once, in order.
void ExpectEveryPositionOnceInOrder(const std::vector<RelayedMessage>& messages, uint64_t last);

// The view URLs a replica must answer exactly as the primary does.
std::vector<std::string> ViewUrls();

// A `caseledger serve --data DATA --listen 127.0.0.1:PORT EXTRA...` process (output in
// DATA.log), started and killed by the test (SIGKILL at scope exit).
class ServeProcess {
 public:
  ServeProcess(std::string data, uint16_t port, std::vector<std::string> extra)
      : data_(std::move(data)), port_(port), extra_(std::move(extra)) {}
  ~ServeProcess() { Kill(SIGKILL); }
  // Starts it and waits (≤ 30 s) for /healthz; fails the test otherwise. /healthz answers
  // while the views still catch up (every route with a token is 503 "starting" until then).
  void Start();
  // Waits (≤ 30 s) for /readyz to say 200: the views caught up, every route answered.
  void WaitReady();
  void Kill(int sig = SIGKILL);
  // A value from /metrics: -1 when absent; Position() the same as a count (0 when absent).
  double Gauge(const std::string& name);
  uint64_t Position(const std::string& name);
  uint16_t port() const { return port_; }
  const std::string& data() const { return data_; }

 private:
  // Whether GET `path` answers 200 within 30 s.
  bool Answers200(const char* path) const;
  std::string data_;
  uint16_t port_;
  std::vector<std::string> extra_;
  pid_t pid_ = -1;
};

// A token of the server whose HS256 key is at `key_path`, for `subject`, valid an hour.
std::string TokenFor(const std::string& key_path, const std::string& subject = "tester");

// Polls `done` every 20 ms until it holds or `timeout` passes.
bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout);

}  // namespace caseledger::testing
