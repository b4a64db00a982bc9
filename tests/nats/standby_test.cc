// Warm standby (docs/standby.md) with real processes: a primary (`serve --nats URL
// --ship-standby`) under a command load, its standby (`serve --standby-of URL`) following
// through JetStream; the primary killed with SIGKILL, the standby promoted with
// `caseledger promote`: what the standby had received is the primary's log byte for byte,
// the chain verifies, personal data reads back, new commands continue the chain. Before
// that the standby refuses commands naming the primary; a tampered frame is refused.
// Prints the lag under load (RPO) and promote-to-first-command (RTO) it measured.
#include "api/jwt.h"
#include "domain/tax_code.h"
#include "eventstore/event_store.h"
#include "eventstore/nats_link.h"
#include "tests/nats/nats_process.h"
#include "tests/nats/nats_test_support.h"
#include "tests/support/build_paths.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace caseledger::testing {
namespace {

using namespace std::chrono_literals;

std::string Registration() {
  return R"({"tax_code":"RSSMRA85T10L219G","family_name":"Rossi","given_names":"Mario","birth_date":"1985-12-10","sex":"M","residence_istat":"001272"})";
}

// A primary with the workload's grants, shipping to a standby that holds copies of its
// master and auth keys, both started.
struct Pair {
  TempDir dir;
  std::unique_ptr<NatsNode> nats;
  std::unique_ptr<ServeProcess> primary, standby;
  std::string token;

  void Start() {
    nats = SingleNode(dir.Sub("nats"));
    nats->Start();
    // The workload's grants recorded offline before the primary ships: its WAL no longer
    // holds them (each open flushed the one before), so the standby is seeded with a
    // snapshot first, then follows the WAL (docs/standby.md).
    std::filesystem::create_directories(dir.Sub("primary"));
    for (const std::string& asl : CaseWorkload::Asls()) {
      const std::string cmd = std::string(caseledger::TestBinaryDir() + "/app/caseledger grant --data ") + dir.Sub("primary") +
                              " --sub tester --role operator --scope " + asl + " >/dev/null 2>&1";
      ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    }
    primary = std::make_unique<ServeProcess>(dir.Sub("primary"), FreePort(),
                                             std::vector<std::string>{"--nats", nats->url(), "--ship-standby"});
    primary->Start();
    primary->WaitReady();
    token = TokenFor(dir.Sub("primary/auth.key"));
    std::filesystem::create_directories(dir.Sub("standby"));
    for (const char* file : {"master.key", "auth.key"}) {
      std::filesystem::copy_file(dir.Sub("primary/") + file, dir.Sub("standby/") + file);
    }
    const std::string primary_url = "http://127.0.0.1:" + std::to_string(primary->port());
    standby = std::make_unique<ServeProcess>(dir.Sub("standby"), FreePort(),
                                      std::vector<std::string>{"--standby-of", nats->url(), "--primary", primary_url});
    standby->Start();
    const uint64_t committed = primary->Position("caseledger_committed_position");
    ASSERT_GT(committed, 0u);
    ASSERT_TRUE(WaitUntil([&] { return standby->Position("caseledger_standby_position") >= committed; }, 30s))
        << "the standby holds " << standby->Position("caseledger_standby_position") << " of " << committed;
  }
};

// The value of every log record (events family), by position.
std::vector<std::string> LogRecords(const std::string& store) {
  std::vector<std::string> names;
  EXPECT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), store, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const std::string& n : names) families.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  EXPECT_TRUE(rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), store, families, &handles, &db).ok());
  std::vector<std::string> out;
  for (auto* h : handles) {
    if (h->GetName() == "events") {
      std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), h));
      for (it->SeekToFirst(); it->Valid(); it->Next()) out.push_back(it->value().ToString());
    }
    db->DestroyColumnFamilyHandle(h);
  }
  delete db;
  return out;
}

std::string FileText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one;
  in >> one;
  return one;
}

TEST(StandbyTest, PrimaryKilledUnderLoadThenStandbyPromotedHoldsWhatItReceivedAndWritesOn) {
  Pair pair;
  ASSERT_NO_FATAL_FAILURE(pair.Start());
  ServeProcess& primary = *pair.primary;
  ServeProcess& standby = *pair.standby;
  const std::string primary_url = "http://127.0.0.1:" + std::to_string(primary.port());

  // Unpromoted: commands and person queries are refused, naming the primary; views answer.
  {
    HttpClient http(standby.port());
    auto refused = http.Post("/v1/people", Registration(), pair.token);
    EXPECT_EQ(refused.status, 503) << refused.body;
    EXPECT_NE(refused.body.find("standby"), std::string::npos) << refused.body;
    EXPECT_NE(refused.body.find(primary_url), std::string::npos) << refused.body;
    EXPECT_EQ(refused.Header("content-type"), "application/problem+json");
    EXPECT_EQ(http.Get("/v1/people?tax_code=RSSMRA85T10L219G", pair.token).status, 503);
    EXPECT_EQ(http.Get("/v1/views/municipalities/001272", pair.token).status, 200);
    auto ready = http.Send("GET", "/readyz");
    EXPECT_NE(ready.body.find(R"("standby":{"role":"standby")"), std::string::npos) << ready.body;
  }

  // Load on the primary; the standby's lag sampled meanwhile.
  CaseWorkload load(primary.port(), pair.token, 4);
  load.Start(3000);
  std::vector<uint64_t> lags;
  while (load.last_position() < 4000 && lags.size() < 5000) {
    const uint64_t committed = primary.Position("caseledger_committed_position");
    const uint64_t held = standby.Position("caseledger_standby_position");
    lags.push_back(committed > held ? committed - held : 0);
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_GE(load.last_position(), 4000u) << load.first_failure();
  primary.Kill(SIGKILL);
  load.Stop();
  const std::vector<uint64_t> acked = load.AcknowledgedPositions();
  const uint64_t acked_max = *std::max_element(acked.begin(), acked.end());

  // Promote: what the stream holds is applied first.
  const auto t0 = std::chrono::steady_clock::now();
  const std::string promote = std::string(caseledger::TestBinaryDir() + "/app/caseledger promote --data ") + standby.data() +
                              " > " + standby.data() + ".promote.log 2>&1";
  ASSERT_EQ(std::system(promote.c_str()), 0) << promote << "\n" << FileText(standby.data() + ".promote.log");
  const auto t1 = std::chrono::steady_clock::now();
  const uint64_t held = standby.Position("caseledger_committed_position");
  // The first accepted command after the promotion.
  HttpClient http(standby.port());
  HttpReply first;
  for (int i = 0; i < 500; ++i) {
    first = http.Post("/v1/people",
                      R"({"tax_code":")" + domain::ComposeTaxCode("Verdi", "Giuseppe", domain::Date::FromYmd(1980, 1, 1), 'M', "L219") +
                          R"(","family_name":"Verdi","given_names":"Giuseppe","birth_date":"1980-01-01","sex":"M","residence_istat":"001272"})",
                      pair.token);
    if (first.status == 201) break;
    std::this_thread::sleep_for(2ms);
  }
  const auto t2 = std::chrono::steady_clock::now();
  ASSERT_EQ(first.status, 201) << first.body;
  EXPECT_EQ(first.Json().at("position").to_number<uint64_t>(), held + 1) << "the new command continues the log";
  EXPECT_EQ(standby.Gauge("caseledger_standby_promoted"), 1.0);

  // Personal data of people the standby received reads back on the promoted node.
  int read_back = 0;
  for (const auto& r : load.Registrations()) {
    if (r.position > held || read_back >= 20) continue;
    auto person = http.Get("/v1/people/" + r.person_id, pair.token);
    ASSERT_EQ(person.status, 200) << person.body;
    EXPECT_NE(person.body.find(r.family_name), std::string::npos) << person.body;
    EXPECT_NE(person.body.find(r.tax_code), std::string::npos) << person.body;
    ++read_back;
  }
  EXPECT_EQ(read_back, 20);
  // New commands go on (claims and grants as on the primary).
  CaseWorkload after(standby.port(), pair.token, 2, 9000);
  after.Run(10);
  EXPECT_EQ(after.failures(), 0) << after.first_failure();
  const uint64_t final_position = standby.Position("caseledger_committed_position");
  EXPECT_EQ(final_position, held + 1 + 60);
  standby.Kill(SIGTERM);

  // What the standby received is the primary's log byte for byte; the chain verifies.
  const std::vector<std::string> standby_log = LogRecords(pair.dir.Sub("standby/store"));
  const std::vector<std::string> primary_log = LogRecords(pair.dir.Sub("primary/store"));
  ASSERT_EQ(standby_log.size(), final_position);
  ASSERT_GE(primary_log.size(), held);
  for (uint64_t p = 0; p < held; ++p) ASSERT_EQ(standby_log[p], primary_log[p]) << "position " << p + 1;
  auto report = eventstore::VerifyStore({pair.dir.Sub("standby/store"), nullptr, 1'000'000});
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->first_bad_position, 0u) << report->problem;
  EXPECT_EQ(report->events_checked, final_position);

  // The stream carried the sealed personal parts only: no tax code or name in clear.
  const std::vector<RelayedMessage> frames = ReadStream({pair.nats->url()}, "CASELEDGER_STANDBY");
  ASSERT_FALSE(frames.empty());
  for (const std::string& value : load.PersonalValues()) {
    for (const RelayedMessage& m : frames) ASSERT_EQ(m.data.find(value), std::string::npos) << value << " in clear";
  }

  // The measurements (docs/standby.md quotes them).
  const size_t lost = size_t(std::count_if(acked.begin(), acked.end(), [&](uint64_t p) { return p > held; }));
  std::vector<uint64_t> sorted = lags;
  std::sort(sorted.begin(), sorted.end());
  auto ms = [](auto d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
  std::printf("standby: %zu commands acknowledged (up to position %llu); the standby held %llu at promotion; "
              "acknowledged but lost: %zu\n",
              acked.size(), (unsigned long long)acked_max, (unsigned long long)held, lost);
  std::printf("standby: lag under load (primary committed - standby position, %zu samples every 20 ms): "
              "median %llu, p99 %llu, max %llu events\n",
              sorted.size(), (unsigned long long)sorted[sorted.size() / 2],
              (unsigned long long)sorted[sorted.size() * 99 / 100], (unsigned long long)sorted.back());
  std::printf("standby: RTO: caseledger promote took %lld ms, promote to first accepted command %lld ms (load %s)\n",
              (long long)ms(t1 - t0), (long long)ms(t2 - t0), LoadAverage().c_str());
  EXPECT_LE(lost, acked.size());
}

TEST(StandbyTest, ATamperedFrameIsRefusedAndTheStandbyStopsWhereItIs) {
  Pair pair;
  ASSERT_NO_FATAL_FAILURE(pair.Start());
  const uint64_t held = pair.standby->Position("caseledger_standby_position");
  // The last frame the primary shipped, one byte altered, published again after it.
  eventstore::NatsLinkOptions lo;
  lo.urls = {pair.nats->url()};
  lo.name = "caseledger-test-tamper";
  std::string error;
  auto link = eventstore::NatsLink::Connect(lo, &error);
  ASSERT_TRUE(link) << error;
  std::vector<RelayedMessage> frames = ReadStream({pair.nats->url()}, "CASELEDGER_STANDBY");
  ASSERT_FALSE(frames.empty());
  std::string altered = frames.back().data;
  altered[altered.size() / 2] ^= 0x20;
  jsPubAck* pa = nullptr;
  ASSERT_EQ(js_Publish(&pa, link->js(), "caseledger.standby.log", altered.data(), int(altered.size()), nullptr, nullptr),
            NATS_OK);
  jsPubAck_Destroy(pa);
  ASSERT_TRUE(WaitUntil([&] { return pair.standby->Gauge("caseledger_standby_refused_total") >= 1; }, 10s));
  EXPECT_EQ(pair.standby->Gauge("caseledger_standby_stopped"), 1.0);
  EXPECT_EQ(pair.standby->Position("caseledger_standby_position"), held);
  HttpClient http(pair.standby->port());
  auto ready = http.Send("GET", "/readyz");
  EXPECT_NE(ready.body.find("MAC"), std::string::npos) << ready.body;
  // The primary writes on; the stopped standby takes nothing more.
  CaseWorkload more(pair.primary->port(), pair.token, 1, 7000);
  more.Run(2);
  EXPECT_EQ(more.failures(), 0) << more.first_failure();
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(pair.standby->Position("caseledger_standby_position"), held);
}

}  // namespace
}  // namespace caseledger::testing
