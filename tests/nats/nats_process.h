// Real nats-server processes for the NATS tests: one node or a 3-node JetStream cluster on
// loopback ports the test picks, with store dirs under a temp dir; stopped (or killed)
// by the test and always at scope exit. A missing nats-server binary is a test failure,
// not a skip (ops/setup installs the Debian package).
#pragma once

#include "tests/support/free_port.h"

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace caseledger::testing {

// The nats-server binary, or "" when none is installed.
std::string NatsServerBinary();

class NatsNode {
 public:
  // `config` is written to `dir`/nats.conf; the node is not started yet.
  NatsNode(std::string name, std::string dir, uint16_t port, std::string config);
  ~NatsNode();  // kills the process if it runs
  NatsNode(const NatsNode&) = delete;
  NatsNode& operator=(const NatsNode&) = delete;

  // Starts the process and waits (≤ 10 s) until the client port accepts connections;
  // throws when it does not.
  void Start();
  void Stop();  // SIGTERM and wait (SIGKILL after 10 s)
  void Kill();  // SIGKILL and wait
  bool running() const { return pid_ > 0; }
  const std::string& name() const { return name_; }
  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }
  std::string log_path() const { return dir_ + "/nats.log"; }

 private:
  std::string name_, dir_;
  uint16_t port_;
  pid_t pid_ = -1;
};

// One JetStream node: `nats-server -c` with jetstream, store dir `dir`/js.
std::string SingleNodeConfig(const std::string& name, const std::string& dir, uint16_t port);
// A single JetStream node on a free port, not started.
std::unique_ptr<NatsNode> SingleNode(const std::string& dir);

// `size` nodes named n1..nN with routes to each other, in `dir`/n1...; urls() lists them.
class NatsCluster {
 public:
  NatsCluster(const std::string& dir, int size = 3);
  void StartAll();
  NatsNode& node(int i) { return *nodes_[i]; }
  NatsNode* Find(const std::string& name);
  std::vector<std::string> urls() const;

 private:
  std::vector<std::unique_ptr<NatsNode>> nodes_;
};

}  // namespace caseledger::testing
