// `caseledger backup` while serving, as the server does it: asked over DATA/control.sock
// while clients keep registering people; the backup restores to a log that holds every
// registration acknowledged before the backup began, and verifies.
#include "api/backup_request.h"
#include "api/control_socket.h"
#include "domain/tax_code.h"
#include "eventstore/backup.h"
#include "tests/support/test_server.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

namespace caseledger::testing {
namespace {

std::string RegisterBody(int client, int i) {
  const std::string family = "Salvati" + std::string(1, static_cast<char>('A' + client));
  const std::string given = "Copia" + std::string(1, static_cast<char>('A' + i % 26)) +
                            std::string(1, static_cast<char>('A' + i / 26 % 26));
  // The tax code tells people apart by birth date: one date per (client, i).
  char birth[48];
  std::snprintf(birth, sizeof birth, "%04d-%02d-%02d", 1930 + client * 15 + i / 336 % 15, 1 + i / 28 % 12, 1 + i % 28);
  boost::json::object o{{"tax_code", domain::ComposeTaxCode(family, given, *domain::Date::Parse(birth), 'M', "L219")},
                        {"family_name", family},
                        {"given_names", given},
                        {"birth_date", birth},
                        {"sex", "M"},
                        {"residence_istat", "001272"}};
  return boost::json::serialize(o);
}

TEST(BackupOnlineTest, TheServerBacksUpUnderLoadAndTheRestoreHoldsEveryEarlierAcknowledgedCommand) {
  TestServer server;
  const std::string token = server.Token();
  const std::string data = server.data_dir() + "/data";  // data_dir() is the test's temp dir
  const std::string dest = server.data_dir() + "/backup", restored = server.data_dir() + "/restored";
  struct Acked {
    std::string person_id;
    uint64_t position;
  };
  std::mutex mu;
  std::vector<Acked> before_backup;
  std::atomic<bool> backup_started{false}, stop{false};
  std::atomic<int> registered{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&, c] {
      HttpClient http(server.port());
      for (int i = 0; !stop && i < 5000; ++i) {
        auto r = http.Post("/v1/people", RegisterBody(c, i), token);
        ASSERT_EQ(r.status, 201) << r.body;
        ++registered;
        // Read after the answer: an answer seen before the backup was asked for.
        if (!backup_started) {
          std::lock_guard l(mu);
          before_backup.push_back({std::string(r.Json().at("person_id").as_string()),
                                   r.Json().at("position").to_number<uint64_t>()});
        }
      }
    });
  }
  while (registered < 100) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  backup_started = true;
  auto answer = api::AskControlSocket(data + "/control.sock", "backup " + dest);
  ASSERT_TRUE(answer) << "nothing listens on the control socket";
  auto report = api::ParseBackupAnswer(*answer);
  ASSERT_TRUE(report) << report.error().message;
  const int at_backup = registered;
  while (registered < at_backup + 50) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  stop = true;
  for (auto& t : clients) t.join();
  ASSERT_GE(before_backup.size(), 100u);

  auto bad = api::AskControlSocket(data + "/control.sock", "format c:");
  ASSERT_TRUE(bad);
  EXPECT_FALSE(api::ParseBackupAnswer(*bad));

  eventstore::RestoreOptions restore;
  restore.from = dest;
  restore.data_dir = restored;
  auto done = eventstore::RestoreDataDir(restore);
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_EQ(done->backup_tip.position, report->tip.position);
  EXPECT_EQ(done->backup_tip.hash, report->tip.hash);
  eventstore::StoreOptions o;
  o.path = restored + "/store";
  o.master_key_path = data + "/master.key";  // kept apart from the backup
  auto store = eventstore::EventStore::Open(o);
  ASSERT_TRUE(store) << store.error().message;
  for (const Acked& a : before_backup) {
    ASSERT_LE(a.position, report->tip.position);
    auto events = (*store)->ReadStream("person-" + a.person_id, 1, 10);
    ASSERT_TRUE(events);
    ASSERT_EQ(events->size(), 1u) << a.person_id << " acknowledged before the backup is not in it";
    EXPECT_EQ(events->front().position, a.position);
    EXPECT_EQ(events->front().personal_form, domain::PersonalForm::kOpen) << "the wrapped key was not backed up";
  }
  auto check = eventstore::VerifyBackupDir(dest, server.data_dir() + "/scratch");
  ASSERT_TRUE(check) << check.error().message;
  EXPECT_TRUE(check->problem.empty()) << check->problem;
}

}  // namespace
}  // namespace caseledger::testing
