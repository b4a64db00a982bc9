// A server killed (SIGKILL) while it rebuilds its views under newly adopted rules: at the
// restart the old views answer at once, the rebuild runs again and switches in, and the
// views end equal to a from-scratch rebuild (`caseledger verify`).
#include "domain/event_codec.h"
#include "domain/events.h"
#include "eventstore/event_store.h"
#include "projections/views_pointer.h"
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

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace caseledger::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

const std::string kExe = caseledger::TestBinaryDir() + "/app/caseledger";

// ~200k events, one append per person, straight into the store.
void Preload(const std::string& data) {
  auto store = eventstore::EventStore::Open(caseledger::testing::StoreOptionsIn(data));
  ASSERT_TRUE(store) << store.error().message;
  auto at = [](int day, int minute) {
    return domain::Timestamp{domain::Timestamp::StartOfDay(domain::Date::FromYmd(2020, 10, day)).micros +
                             minute * 60'000'000LL};
  };
  for (int p = 0; p < 1000; ++p) {
    char id[32];
    std::snprintf(id, sizeof id, "01HFKILLTEST%014d", p);
    eventstore::AppendRequest r;
    r.stream = domain::PersonStream(id);
    r.actor = {"preload", "operator"};
    auto add = [&](const domain::Event& e, domain::Timestamp t) {
      domain::EncodedEvent enc = domain::Encode(e);
      r.events.push_back({enc.type, enc.schema_version, enc.body, enc.personal, t});
    };
    add(domain::PersonRegistered{id, domain::Sex::kMale, "001272", {}}, at(1, p % 600));
    for (int s = 0; s < 100; ++s) {
      std::string swab = "KT" + std::to_string(p) + "-" + std::to_string(s);
      add(domain::SwabRequested{swab, domain::SwabKind::kAntigen, "screening", "GP0001", {}}, at(2 + s % 20, s));
      add(domain::SwabCollected{swab, at(2 + s % 20, s + 1), "drive-in", ""}, at(2 + s % 20, s + 1));
    }
    ASSERT_TRUE((*store)->Append(r));
  }
}

class Child {
 public:
  Child(const std::string& data, uint16_t port, const std::string& log) : port_(port) {
    std::string listen = "127.0.0.1:" + std::to_string(port);
    const char* argv[] = {kExe.c_str(), "serve", "--data", data.c_str(), "--listen", listen.c_str(), nullptr};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    EXPECT_EQ(posix_spawn(&pid_, kExe.c_str(), &actions, nullptr, const_cast<char**>(argv), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Child() {
    if (pid_ > 0) Stop(SIGKILL);
  }
  void Stop(int signal) {
    kill(pid_, signal);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  bool WaitHealthy(std::chrono::seconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      try {
        HttpClient http(port_);
        if (http.Send("GET", "/readyz").status == 200) return true;  // views caught up: every route answers
      } catch (const std::exception&) {
      }
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

 private:
  pid_t pid_ = -1;
  uint16_t port_;
};

json::value Views(uint16_t port, const std::string& token) {
  HttpClient http(port);
  return http.Get("/v1/rules", token).Json().at("views");
}

TEST(KillRebuildTest, AServerKilledDuringTheRebuildServesTheOldViewsThenFinishesTheAdoption) {
  TempDir dir;
  const std::string data = dir.Sub("data");
  std::filesystem::create_directories(data);
  Preload(data);
  const CliOutcome granted = RunShell(kExe + " grant --data " + data + " --sub admin --role admin 2>&1");
  ASSERT_EQ(granted.code, 0) << granted.out;

  const uint16_t port = FreePort();
  auto server = std::make_unique<Child>(data, port, dir.Sub("serve.log"));
  ASSERT_TRUE(server->WaitHealthy(120s));
  const CliOutcome issued = RunShell(kExe + " token --key " + data + "/auth.key --sub admin");
  ASSERT_EQ(issued.code, 0);
  std::string token = issued.out;
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  const uint64_t old_rules = Views(port, token).at("rules_position").to_number<uint64_t>();

  std::stringstream text;
  text << std::ifstream(caseledger::TestSourceDir() + "/ops/rules/2021-12-31.json").rdbuf();
  json::value set = json::parse(text.str());
  set.as_object()["effective_from"] = "2020-10-12";
  HttpClient admin(port);
  auto adopted = admin.Post("/v1/rules", json::serialize(set), token);
  ASSERT_EQ(adopted.status, 201) << adopted.body;
  server->Stop(SIGKILL);  // in the middle of rebuilding ~200k events
  const uint64_t adoption = adopted.Json().at("position").to_number<uint64_t>();

  auto pointer = projections::ReadViewsPointer(data);
  ASSERT_TRUE(pointer && *pointer);
  EXPECT_EQ((*pointer)->dir, "views") << "the kill came after the switch; the scenario was not exercised";
  EXPECT_EQ((*pointer)->rules_position, old_rules);

  const uint16_t port2 = FreePort();
  server = std::make_unique<Child>(data, port2, dir.Sub("serve.log"));
  ASSERT_TRUE(server->WaitHealthy(120s));
  json::value first = Views(port2, token);  // the old views answer while the rebuild runs again
  if ((*pointer)->dir == "views") {
    EXPECT_TRUE(first.at("rebuilding").as_bool() || first.at("rules_position").to_number<uint64_t>() == adoption);
  }
  auto deadline = std::chrono::steady_clock::now() + 120s;
  json::value views = first;
  while (std::chrono::steady_clock::now() < deadline &&
         (views.at("rebuilding").as_bool() || views.at("rules_position").to_number<uint64_t>() != adoption)) {
    std::this_thread::sleep_for(50ms);
    views = Views(port2, token);
  }
  EXPECT_EQ(views.at("rules_position").to_number<uint64_t>(), adoption) << json::serialize(views);
  EXPECT_FALSE(views.at("rebuilding").as_bool());
  server->Stop(SIGTERM);
  server.reset();

  const CliOutcome verified = RunShell(kExe + " verify --data " + data + " 2>&1");
  EXPECT_EQ(verified.code, 0) << verified.out;
  EXPECT_NE(verified.out.find("equal a from-scratch rebuild"), std::string::npos) << verified.out;
  EXPECT_EQ((**projections::ReadViewsPointer(data)).dir, projections::ViewsDirFor(adoption));
  EXPECT_FALSE(std::filesystem::exists(data + "/views"));  // the retired views were removed
}

}  // namespace
}  // namespace caseledger::testing
