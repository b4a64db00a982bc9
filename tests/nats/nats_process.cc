#include "tests/nats/nats_process.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace caseledger::testing {

std::string NatsServerBinary() {
  for (const char* p : {"/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"}) {
    if (access(p, X_OK) == 0) return p;
  }
  return "";
}

namespace {

bool PortAccepts(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

}  // namespace

NatsNode::NatsNode(std::string name, std::string dir, uint16_t port, std::string config)
    : name_(std::move(name)), dir_(std::move(dir)), port_(port) {
  std::filesystem::create_directories(dir_);
  std::ofstream(dir_ + "/nats.conf") << config;
}

NatsNode::~NatsNode() {
  if (pid_ > 0) Kill();
}

void NatsNode::Start() {
  const std::string binary = NatsServerBinary();
  if (binary.empty()) throw std::runtime_error("nats-server is not installed (ops/setup installs it)");
  const std::string conf = dir_ + "/nats.conf";
  const std::string log = log_path();
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    // Child: its own process group so that a test runner's signals do not reach it first.
    setpgid(0, 0);
    execl(binary.c_str(), binary.c_str(), "-c", conf.c_str(), "-l", log.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  pid_ = pid;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!PortAccepts(port_)) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("nats-server " + name_ + " exited at start; see " + log);
    }
    if (std::chrono::steady_clock::now() > deadline) {
      Kill();
      throw std::runtime_error("nats-server " + name_ + " did not open its port; see " + log);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void NatsNode::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  for (int i = 0; i < 1000; ++i) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  Kill();
}

void NatsNode::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string SingleNodeConfig(const std::string& name, const std::string& dir, uint16_t port) {
  return "server_name: " + name + "\nlisten: 127.0.0.1:" + std::to_string(port) +
         "\njetstream {\n  store_dir: \"" + dir + "/js\"\n  max_memory_store: 64MB\n  max_file_store: 1GB\n}\n";
}

std::unique_ptr<NatsNode> SingleNode(const std::string& dir) {
  const uint16_t port = FreePort();
  return std::make_unique<NatsNode>("n1", dir, port, SingleNodeConfig("n1", dir, port));
}

NatsCluster::NatsCluster(const std::string& dir, int size) {
  std::vector<uint16_t> client, route;
  for (int i = 0; i < size; ++i) {
    client.push_back(FreePort());
    route.push_back(FreePort());
  }
  std::string routes;
  for (int i = 0; i < size; ++i) {
    routes += "    nats-route://127.0.0.1:" + std::to_string(route[i]) + "\n";
  }
  for (int i = 0; i < size; ++i) {
    const std::string name = "n" + std::to_string(i + 1);
    const std::string node_dir = dir + "/" + name;
    std::string config = SingleNodeConfig(name, node_dir, client[i]);
    config += "cluster {\n  name: caseledger-test\n  listen: 127.0.0.1:" + std::to_string(route[i]) +
              "\n  routes: [\n" + routes + "  ]\n}\n";
    nodes_.push_back(std::make_unique<NatsNode>(name, node_dir, client[i], config));
  }
}

void NatsCluster::StartAll() {
  for (auto& n : nodes_) n->Start();
}

NatsNode* NatsCluster::Find(const std::string& name) {
  for (auto& n : nodes_) {
    if (n->name() == name) return n.get();
  }
  return nullptr;
}

std::vector<std::string> NatsCluster::urls() const {
  std::vector<std::string> out;
  for (const auto& n : nodes_) out.push_back(n->url());
  return out;
}

}  // namespace caseledger::testing
