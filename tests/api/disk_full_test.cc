// A full data volume, as an operator meets it: the server on a 40 MB tmpfs the test mounts,
// the volume filled by another file. Commands are answered 507 (problem+json, Retry-After),
// reads, views and /healthz go on, /readyz and /metrics say why, nothing acknowledged is
// lost, and writes resume once space is freed: by themselves below the free-space floor,
// after a restart when RocksDB itself met ENOSPC. The server never aborts.
//
// Needs CAP_SYS_ADMIN for mount(2) (root in CI and on the dev machines); without it the
// tests fail, they do not skip.
#include "domain/tax_code.h"
#include "eventstore/disk_space.h"
#include "eventstore/event_store.h"
#include "tests/support/small_volume.h"
#include "tests/support/test_store.h"
#include "tests/support/test_server.h"

#include <boost/json.hpp>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

namespace caseledger::testing {
namespace {

constexpr uint64_t kFloor = 8 << 20;

std::string RegisterBody(int i) {
  const std::string family = "Capienza" + std::string(1, static_cast<char>('A' + i % 26));
  const std::string given = "Piena" + std::string(1, static_cast<char>('A' + i / 26 % 26));
  char birth[48];  // one birth date per i: the tax codes differ
  std::snprintf(birth, sizeof birth, "19%02d-%02d-%02d", 40 + i / 336 % 50, 1 + i / 28 % 12, 1 + i % 28);
  boost::json::object o{{"tax_code", domain::ComposeTaxCode(family, given, *domain::Date::Parse(birth), 'F', "L219")},
                        {"family_name", family},
                        {"given_names", given},
                        {"birth_date", birth},
                        {"sex", "F"},
                        {"residence_istat", "001272"},
                        {"address", "Via Roma " + std::to_string(i)}};
  return boost::json::serialize(o);
}

struct Acked {
  std::string person_id;
  uint64_t position = 0;
};

// Registers person `i`; the answer's status, and its id and position when 201.
int Register(HttpClient& http, const std::string& token, int i, std::vector<Acked>& acked) {
  auto r = http.Post("/v1/people", RegisterBody(i), token);
  if (r.status == 201) {
    acked.push_back({std::string(r.Json().at("person_id").as_string()), r.Json().at("position").to_number<uint64_t>()});
  }
  return r.status;
}

void ExpectInsufficientStorage(const HttpReply& r) {
  EXPECT_EQ(r.status, 507) << r.body;
  EXPECT_EQ(r.Header("content-type"), "application/problem+json");
  EXPECT_NE(r.body.find("insufficient-storage"), std::string::npos) << r.body;
  EXPECT_FALSE(r.Header("retry-after").empty());
}

// After the server is gone: every acknowledged registration is in the log, whose chain verifies.
void ExpectNothingLost(const std::string& data_dir, const std::vector<Acked>& acked) {
  eventstore::StoreOptions o = caseledger::testing::StoreOptionsIn(data_dir);
  o.create_if_missing = false;
  auto store = eventstore::EventStore::Open(o);
  ASSERT_TRUE(store) << store.error().message;
  const uint64_t committed = (*store)->CommittedPosition();
  auto log = (*store)->ReadLog(1, committed + 1);
  ASSERT_TRUE(log);
  ASSERT_EQ(log->size(), committed) << "gap in the log";
  for (const Acked& a : acked) {
    ASSERT_LE(a.position, committed) << "acknowledged position " << a.position << " lost";
    EXPECT_EQ((*log)[a.position - 1].stream, "person-" + a.person_id) << "position " << a.position;
  }
  store->reset();
  auto report = eventstore::VerifyStore({o.path, {}, 1'000'000});
  ASSERT_TRUE(report);
  EXPECT_EQ(report->first_bad_position, 0u) << report->problem;
}

TEST(DiskFullTest, BelowTheFloorCommandsGet507ReadsGoOnAndWritesResumeWhenSpaceIsFreed) {
  SmallVolume volume(40);
  ASSERT_TRUE(volume.mounted()) << volume.error();
  const std::string data = volume.Sub("data");
  std::vector<Acked> acked;
  {
    TestServer server([&](api::ServiceOptions& o) {
      o.data_dir = data;
      o.min_free_bytes = kFloor;
    });
    HttpClient http(server.port());
    const std::string token = server.Token();
    for (int i = 0; i < 5; ++i) ASSERT_EQ(Register(http, token, i, acked), 201);
    const uint64_t committed = server.service().store().CommittedPosition();
    // The views at the last command before the disk fills: below the floor they pause, and
    // /readyz would say they are catching up rather than that writes are refused. (An answer
    // does not wait for the views: under the full suite's load they were still behind.)
    auto caught_up = http.Get("/v1/views/municipalities/001272?min_position=" + std::to_string(committed), token);
    ASSERT_EQ(caught_up.status, 200) << caught_up.body;

    // Below the floor, above half of it: commands refused, personal reads still recorded.
    volume.FillLeaving("filler", kFloor * 3 / 4);
    ASSERT_LT(volume.Available(), kFloor);
    // The group commit looks at the disk every kFreeSpaceRecheck (its own writes are
    // counted in between; another process's are not).
    std::this_thread::sleep_for(2 * eventstore::kFreeSpaceRecheck);
    auto refused = http.Post("/v1/people", RegisterBody(10), token);
    ExpectInsufficientStorage(refused);
    ExpectInsufficientStorage(http.Post("/v1/people/" + acked[0].person_id + "/swabs",
                                        R"({"requested_at":"2020-10-01T08:00:00Z","swab_id":"TO-DF-1","kind":"molecular"})", token));
    EXPECT_EQ(server.service().store().CommittedPosition(), committed) << "a refused command wrote";
    EXPECT_EQ(http.Get("/healthz", "").status, 200);
    auto person = http.Get("/v1/people/" + acked[1].person_id, token);
    EXPECT_EQ(person.status, 200) << person.body;
    EXPECT_EQ(http.Get("/v1/views/municipalities/001272", token).status, 200);
    auto ready = http.Get("/readyz", "");
    EXPECT_EQ(ready.status, 200) << ready.body;
    EXPECT_EQ(ready.Json().at("status"), "writes_refused") << ready.body;
    EXPECT_EQ(ready.Json().at("writes").at("accepted"), false);
    EXPECT_EQ(ready.Json().at("writes").at("problem"), "insufficient-storage");
    EXPECT_NE(ready.body.find("floor"), std::string::npos) << ready.body;
    auto metrics = http.Get("/metrics", "");
    EXPECT_NE(metrics.body.find("\ncaseledger_store_writes_refused_no_space 1\n"), std::string::npos);

    // Below half the floor: a read whose access record cannot be written is refused.
    volume.Remove("filler");
    volume.FillLeaving("filler", kFloor / 4);
    auto unlogged = http.Get("/v1/people/" + acked[2].person_id, token);
    for (int i = 0; i < 50 && unlogged.status == 200; ++i) {  // the access log's writer looks at its next write
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      unlogged = http.Get("/v1/people/" + acked[2].person_id, token);
    }
    ExpectInsufficientStorage(unlogged);
    EXPECT_EQ(http.Get("/v1/views/municipalities/001272", token).status, 200);
    EXPECT_EQ(http.Get("/healthz", "").status, 200);

    // Space is freed: writes resume by themselves, at the next position.
    volume.Remove("filler");
    int status = 0;
    for (int i = 0; i < 100 && status != 201; ++i) {
      status = Register(http, token, 11, acked);
      if (status != 201) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_EQ(status, 201) << "writes did not resume once space was freed";
    EXPECT_EQ(acked.back().position, committed + 1) << "positions skipped across the refusal";
    // The access log looks at the disk again at its next write interval.
    auto read = http.Get("/v1/people/" + acked[2].person_id, token);
    for (int i = 0; i < 50 && read.status != 200; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      read = http.Get("/v1/people/" + acked[2].person_id, token);
    }
    EXPECT_EQ(read.status, 200) << "personal reads did not resume once space was freed";
    EXPECT_EQ(http.Get("/readyz", "").Json().at("writes").at("accepted"), true);
    for (int i = 20; i < 23; ++i) ASSERT_EQ(Register(http, token, i, acked), 201);
  }
  ExpectNothingLost(data, acked);
}

// The crash issue #17 reported came from RocksDB's LOG file on the full volume (its writer
// failed, the next line aborted); RocksDB now logs through spdlog (rocks_info_log.h).
TEST(DiskFullTest, AFullDiskWithoutAFloorIs507WithoutACrashAndARestartResumes) {
  SmallVolume volume(40);
  ASSERT_TRUE(volume.mounted()) << volume.error();
  const std::string data = volume.Sub("data");
  auto no_floor = [&](api::ServiceOptions& o) {
    o.data_dir = data;
    o.min_free_bytes = 0;
  };
  std::vector<Acked> acked;
  {
    TestServer server(no_floor);
    HttpClient http(server.port());
    const std::string token = server.Token();
    for (int i = 0; i < 5; ++i) ASSERT_EQ(Register(http, token, i, acked), 201);
    volume.FillLeaving("filler", 0);
    // RocksDB meets ENOSPC in the WAL: 507, and from then on every write is refused
    // (507 or 503) until a restart; reads go on.
    int status = 201;
    for (int i = 5; i < 200 && status == 201; ++i) status = Register(http, token, i, acked);
    EXPECT_EQ(status, 507);
    auto again = http.Post("/v1/people", RegisterBody(300), token);
    EXPECT_TRUE(again.status == 507 || again.status == 503) << again.status << " " << again.body;
    EXPECT_FALSE(again.Header("retry-after").empty());
    EXPECT_EQ(http.Get("/healthz", "").status, 200);
    EXPECT_EQ(http.Get("/v1/views/municipalities/001272", token).status, 200);
    auto ready = http.Get("/readyz", "");
    EXPECT_EQ(ready.Json().at("writes").at("accepted"), false) << ready.body;
    volume.Remove("filler");
  }
  ExpectNothingLost(data, acked);
  TestServer restarted(no_floor);
  HttpClient http(restarted.port());
  const std::string token = restarted.Token();
  ASSERT_EQ(Register(http, token, 400, acked), 201);
  EXPECT_EQ(http.Get("/v1/people/" + acked.front().person_id, token).status, 200);
}

}  // namespace
}  // namespace caseledger::testing
