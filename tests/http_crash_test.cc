// SIGKILL under many concurrent HTTP commands: the server answers a command from the group
// commit's completion (no thread waits per command), so its acknowledgement must still mean
// durable. Rounds of `caseledger serve` (a real process) taking registrations on many
// keep-alive connections, killed at a random moment; after each, the store holds every
// acknowledged registration at the position its answer gave, with no gap, stream versions
// contiguous and the whole chain verifying, and the next round's server starts on it.
#include "domain/time.h"
#include "domain/tax_code.h"
#include "eventstore/event_store.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_store.h"
#include "tests/support/test_server.h"
#include "tests/support/build_paths.h"
#include "tests/support/cli_runner.h"
#include "tests/support/free_port.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

extern char** environ;

namespace caseledger::testing {
namespace {

using namespace std::chrono_literals;

const std::string kExe = caseledger::TestBinaryDir() + "/app/caseledger";
constexpr int kConnections = 24;
constexpr int kRounds = 3;

pid_t StartServer(const std::string& data, uint16_t port, const std::string& log) {
  const std::string listen = "127.0.0.1:" + std::to_string(port);
  const char* argv[] = {kExe.c_str(), "serve", "--data", data.c_str(), "--listen", listen.c_str(), nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = -1;
  EXPECT_EQ(posix_spawn(&pid, kExe.c_str(), &actions, nullptr, const_cast<char**>(argv), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

bool WaitHealthy(uint16_t port, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    try {
      HttpClient http(port);
      if (http.Send("GET", "/readyz").status == 200) return true;  // views caught up: every route answers
    } catch (const std::exception&) {
    }
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

// What an acknowledgement promised.
struct Ack {
  std::string person_id;
  uint64_t version = 0;
};

// A registration nobody else sends: the tax code (a unique claim) follows the round, the
// connection and the request's number through the family name and the birth date.
std::string Registration(int round, int connection, int i) {
  static const char* kFamilies[] = {"Rossi", "Bianchi", "Ferrero", "Colombo", "Russo", "Gallo"};
  const std::string family = kFamilies[round % 6];
  const domain::Date birth = domain::Date::FromYmd(1930, 1, 1) + (connection * 1500 + i);
  const std::string given = "Anna";
  const std::string tc = domain::ComposeTaxCode(family, given, birth, 'F', "L219");
  return R"({"tax_code":")" + tc + R"(","family_name":")" + family + R"(","given_names":")" + given +
         R"(","birth_date":")" + birth.ToString() + R"(","sex":"F","residence_istat":"001272"})";
}

TEST(HttpCrashTest, EveryAcknowledgedCommandSurvivesSigkill) {
  TempDir dir;
  const std::string data = dir.Sub("data");
  std::filesystem::create_directories(data);
  const CliOutcome granted = RunShell(kExe + " grant --data " + data + " --sub op --role operator --scope TO 2>&1");
  ASSERT_EQ(granted.code, 0) << granted.out;
  std::mt19937 rng(16);
  std::map<uint64_t, Ack> acks;  // every round's, by position
  std::string token;
  for (int round = 0; round < kRounds; ++round) {
    const uint16_t port = FreePort();
    const pid_t pid = StartServer(data, port, dir.Sub("serve.log"));
    ASSERT_GT(pid, 0);
    ASSERT_TRUE(WaitHealthy(port, 120s)) << "round " << round << ": the server did not start";
    if (token.empty()) {
      const CliOutcome issued = RunShell(kExe + " token --key " + data + "/auth.key --sub op");
      ASSERT_EQ(issued.code, 0);
      token = issued.out;
      while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
    }

    std::mutex mu;
    std::map<uint64_t, Ack> round_acks;
    std::atomic<int> answered{0};
    std::atomic<int> refused{0};  // answered, but not 201: none expected
    std::vector<std::jthread> clients;
    for (int c = 0; c < kConnections; ++c) {
      clients.emplace_back([&, c] {
        try {
          HttpClient http(port);
          for (int i = 0; i < 1500; ++i) {
            HttpReply r = http.Post("/v1/people", Registration(round, c, i), token);
            if (r.status != 201) {
              ++refused;
              continue;
            }
            auto body = r.Json().as_object();
            Ack ack{std::string(body.at("person_id").as_string()), static_cast<uint64_t>(body.at("version").as_int64())};
            std::lock_guard l(mu);
            round_acks[static_cast<uint64_t>(body.at("position").as_int64())] = ack;
            ++answered;
          }
        } catch (const std::exception&) {
          // The server was killed mid-request: that request was never acknowledged.
        }
      });
    }
    // The kill lands at a random moment once commands flow.
    for (int i = 0; i < 2000 && answered < kConnections; ++i) std::this_thread::sleep_for(5ms);
    std::this_thread::sleep_for(std::chrono::milliseconds(100 + rng() % 600));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "the server exited on its own";
    clients.clear();  // joins: every client saw its connection close
    ASSERT_GT(round_acks.size(), 0u) << "round " << round << " acknowledged nothing";
    EXPECT_EQ(refused, 0) << "commands were refused under load";
    acks.insert(round_acks.begin(), round_acks.end());

    const eventstore::StoreOptions o = caseledger::testing::StoreOptionsIn(data);
    {
      auto store = eventstore::EventStore::Open(o);
      ASSERT_TRUE(store) << store.error().message;
      const uint64_t committed = (*store)->CommittedPosition();
      ASSERT_GE(committed, acks.rbegin()->first) << "an acknowledged position is missing";
      auto log = (*store)->ReadLog(1, committed + 1);
      ASSERT_TRUE(log) << log.error().message;
      ASSERT_EQ(log->size(), committed) << "gap in the log";
      std::map<std::string, uint64_t> versions;
      for (const auto& e : *log) {
        ASSERT_EQ(e.version, ++versions[e.stream]) << "stream versions not contiguous at " << e.position;
      }
      for (const auto& [position, ack] : acks) {
        const auto& e = (*log)[position - 1];
        EXPECT_EQ(e.stream, "person-" + ack.person_id) << "position " << position;
        EXPECT_EQ(e.version, ack.version) << "position " << position;
        EXPECT_EQ(e.type, "PersonRegistered") << "position " << position;
      }
    }
    auto report = eventstore::VerifyStore({o.path, {}, 1'000'000});
    ASSERT_TRUE(report);
    EXPECT_EQ(report->first_bad_position, 0u) << report->problem;
    std::fprintf(stderr, "round %d: %zu acknowledged, all present\n", round, round_acks.size());
  }
}

}  // namespace
}  // namespace caseledger::testing
