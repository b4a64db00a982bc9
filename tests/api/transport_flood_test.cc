// Audit 2026-12, findings 1 and 2 under load, bounded in time: a server flooded with
// batch uploads it must refuse, or out of file descriptors, still answers a normal
// request, spends little CPU on the flood, and does not flood its log.
#include "tests/api/bad_input_support.h"
#include "tests/support/process_probe.h"
#include "tests/support/raw_socket.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <atomic>
#include <filesystem>
#include <cerrno>
#include <fstream>
#include <memory>
#include <thread>
#include <vector>

namespace caseledger::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

int StatusOf(const std::string& raw) {
  return raw.starts_with("HTTP/1.1 ") && raw.size() >= 12 ? std::stoi(raw.substr(9, 3)) : 0;
}

// GET /healthz on a fresh connection: the status and how long the answer took.
std::pair<int, Clock::duration> Health(uint16_t port, std::chrono::milliseconds wait) {
  const auto start = Clock::now();
  RawSocket s(port);
  if (!s.valid() || !s.Send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")) return {0, wait};
  s.ReadUntil(wait, "\r\n\r\n");
  return {StatusOf(s.received()), Clock::now() - start};
}

// Eight clients post 16 MB batches with a token that may not upload, over and over, for
// two seconds, each sending the whole body. Meanwhile a normal request answers quickly,
// and the process (server and flooding clients together) stays within a small memory
// bound. Before the fix each upload was parsed (9.5 s of CPU per 1,000 padded rows).
TEST(TransportFloodTest, RefusedBatchFloodLeavesTheServerResponsive) {
  TestServer server;
  const std::string head = "POST /v1/results:batch HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                           server.Token("nobody") + "\r\nContent-Type: application/json\r\nContent-Length: 16000000\r\n\r\n";
  std::string body = "{\"results\":[";
  while (body.size() < 16'000'000 - 200) {
    body += "{\"swab_id\":\"NOSUCH\",\"outcome\":\"positive\",\"lab_id\":\"LAB-TO1\",\"reported_at\":\"x\",\"pad\":\"" +
            std::string(15'000, 'p') + "\"},";
  }
  body.resize(16'000'000 - 2, ' ');
  body += "]}";
  ASSERT_TRUE(ResetPeakRss());
  const double rss = RssMiB();
  std::atomic<bool> stop{false};
  std::atomic<int> refused{0}, other{0};
  std::vector<std::thread> flood;
  for (int i = 0; i < 8; ++i) {
    flood.emplace_back([&] {
      while (!stop) {
        RawSocket s(server.port());
        if (!s.valid()) continue;
        s.Send(head);
        s.Send(body);  // the server may stop reading: a failed send is fine
        s.ReadUntil(3s, "\r\n\r\n");
        (StatusOf(s.received()) == 403 ? refused : other)++;
      }
    });
  }
  std::vector<Clock::duration> latencies;
  const auto until = Clock::now() + 2s;
  while (Clock::now() < until) {
    auto [status, took] = Health(server.port(), 3s);
    EXPECT_EQ(status, 200);
    latencies.push_back(took);
    std::this_thread::sleep_for(100ms);
  }
  stop = true;
  for (auto& t : flood) t.join();
  EXPECT_GT(refused.load(), 8) << "the flood did not run";
  EXPECT_EQ(other.load(), 0);
  std::sort(latencies.begin(), latencies.end());
  ASSERT_FALSE(latencies.empty());
  EXPECT_LT(latencies[latencies.size() / 2], 200ms) << "median /healthz latency under the flood";
  EXPECT_LT(latencies.back(), 1s) << "slowest /healthz under the flood";
  EXPECT_LT(PeakRssMiB() - rss, 200 + kSanitizerSlackMiB) << "peak memory growth under the flood";
}

// The CPU seconds (user + system) process `pid` has used, from /proc/PID/stat.
double CpuSecondsOf(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream fields(stat.substr(paren + 2));
  std::string skip;
  for (int i = 0; i < 11; ++i) fields >> skip;  // state .. cmajflt
  double utime = 0, stime = 0;
  fields >> utime >> stime;
  return (utime + stime) / double(sysconf(_SC_CLK_TCK));
}

// The audit: 220 idle connections under `ulimit -n 200` spun a core at 100 % and wrote
// 228 MB of "accept: Too many open files" in 3 s, and a normal request timed out. Here the
// server runs in a child process whose descriptor limit is 40 above what it holds once
// started, with the connection cap set out of the way; 220 connections exhaust it.
TEST(TransportFloodTest, DescriptorExhaustionBacksOffAndStillAnswers) {
  TempDir dir;
  const std::string log_path = dir.Sub("serve.log");
  int ready[2], quit[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(quit), 0);
  const std::string data_dir = dir.Sub("data");
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The child: a server with the descriptor limit lowered, logging to a file, until the
    // parent closes `quit`. Nothing of the test framework runs here.
    ::close(ready[0]);
    ::close(quit[1]);
    int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(log, 2);
    ::dup2(log, 1);
    auto server = std::make_unique<TestServer>([&](api::ServiceOptions& o) {
      o.data_dir = data_dir;  // inside the parent's temp dir, whatever becomes of the child
      o.server.max_connections = 100'000;
      o.server.max_connections_per_client = 0;
    });
    size_t open_fds = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++open_fds;
    rlimit limit{};
    ::getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = open_fds + 40;
    ::setrlimit(RLIMIT_NOFILE, &limit);
    uint16_t port = server->port();
    if (::write(ready[1], &port, sizeof port) != sizeof port) ::_exit(3);
    char c;
    while (::read(quit[0], &c, 1) > 0) {
    }
    server.reset();
    ::_exit(0);
  }
  ::close(ready[1]);
  ::close(quit[0]);
  uint16_t port = 0;
  ASSERT_EQ(::read(ready[0], &port, sizeof port), ssize_t(sizeof port)) << "the child server did not start";
  ::close(ready[0]);
  // Ends the child: a clean stop within 15 s, else SIGKILL.
  struct Reap {
    pid_t pid;
    int quit;
    ~Reap() {
      ::close(quit);
      for (int i = 0; i < 150; ++i) {
        const pid_t done = ::waitpid(pid, nullptr, WNOHANG);
        if (done == pid || (done < 0 && errno != EINTR)) return;
        std::this_thread::sleep_for(100ms);
      }
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  } reap{child, quit[1]};
  ASSERT_EQ(Health(port, 3s).first, 200);

  const auto log_before = std::filesystem::file_size(log_path);
  const double cpu_before = CpuSecondsOf(child);
  std::vector<std::unique_ptr<RawSocket>> idle;
  for (int i = 0; i < 220; ++i) {
    idle.push_back(std::make_unique<RawSocket>(port, "127.0.0.2"));
    ASSERT_TRUE(idle.back()->valid()) << i;  // the backlog takes what the server cannot
  }
  std::this_thread::sleep_for(3s);
  const double cpu = CpuSecondsOf(child) - cpu_before;
  const auto logged = std::filesystem::file_size(log_path) - log_before;
  EXPECT_LT(cpu, 0.5) << "server CPU seconds in 3 s of descriptor exhaustion";
  EXPECT_LT(logged, 16u * 1024) << "bytes logged in 3 s of descriptor exhaustion";
  auto [status, took] = Health(port, 5s);
  EXPECT_EQ(status, 200);
  EXPECT_LT(took, 3s);
  std::ifstream log(log_path);
  std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("Too many open files"), std::string::npos) << "the exhaustion was not reached or not logged";
}

}  // namespace
}  // namespace caseledger::testing
