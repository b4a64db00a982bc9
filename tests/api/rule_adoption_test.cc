// POST /v1/rules while commands keep arriving (replay/README.md): the views are rebuilt under the
// new rules and switched in blue-green; no command is lost, the views end equal to a
// from-scratch rebuild, and the command latency during the rebuild is printed (a figure,
// not a timed assertion: the machine is shared).
#include "app/reference_files.h"
#include "domain/event_codec.h"
#include "domain/events.h"
#include "domain/tax_code.h"
#include "eventstore/event_store.h"
#include "serving/live_views.h"
#include "replay/verify_views.h"
#include "tests/support/test_server.h"
#include "tests/support/build_paths.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

namespace caseledger::testing {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int kSwabsPerPerson = 100;  // 201 events per person: ~100k events to rebuild
// CASELEDGER_ADOPTION_PEOPLE=5000 gives a ~1M-event rebuild for a steadier figure.
int PreloadPeople() {
  const char* v = std::getenv("CASELEDGER_ADOPTION_PEOPLE");
  return v ? std::max(1, std::atoi(v)) : 500;
}
constexpr int kClients = 4;

domain::Timestamp At(int day_of_october, int minute) {
  return {domain::Timestamp::StartOfDay(domain::Date::FromYmd(2020, 10, day_of_october)).micros + minute * 60'000'000LL};
}

// ~100k events straight into the store (one append per person), so the rebuild has work.
void Preload(eventstore::EventStore& store) {
  for (int p = 0, n = PreloadPeople(); p < n; ++p) {
    char id[32];
    std::snprintf(id, sizeof id, "01HFPRELOAD%015d", p);
    eventstore::AppendRequest r;
    r.stream = domain::PersonStream(id);
    r.actor = {"preload", "operator"};
    auto add = [&](const domain::Event& e, domain::Timestamp at) {
      domain::EncodedEvent enc = domain::Encode(e);
      r.events.push_back({enc.type, enc.schema_version, enc.body, enc.personal, at});
    };
    add(domain::PersonRegistered{id, domain::Sex::kFemale, p % 2 ? "001272" : "001156", {}}, At(1, p % 600));
    for (int s = 0; s < kSwabsPerPerson; ++s) {
      std::string swab = "PL" + std::to_string(p) + "-" + std::to_string(s);
      add(domain::SwabRequested{swab, domain::SwabKind::kAntigen, "screening", "GP0001", {}}, At(2 + s % 20, s));
      add(domain::SwabCollected{swab, At(2 + s % 20, s + 1), "drive-in", ""}, At(2 + s % 20, s + 1));
    }
    ASSERT_TRUE(store.Append(r));
  }
}

std::string RegisterBody(int n) {
  domain::Date birth = domain::Date::FromYmd(1950, 1, 1) + n;
  json::object o{{"tax_code", domain::ComposeTaxCode("Rossi", "Maria", birth, 'F', "L219")},
                 {"family_name", "Rossi"}, {"given_names", "Maria"}, {"birth_date", birth.ToString()},
                 {"sex", "F"}, {"residence_istat", "001272"}};
  return json::serialize(o);
}

struct Sample {
  Clock::time_point sent;
  double ms = 0;
};

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

TEST(RuleAdoptionTest, ViewsSwitchBlueGreenUnderCommandsWithNothingLost) {
  TestServer server;
  Preload(server.service().store());
  auto& views = server.service().views();
  ASSERT_TRUE(views.Current()->runner->WaitForPosition(server.service().store().CommittedPosition(), 60s));
  const std::string token = server.Token();

  std::atomic<bool> stop{false};
  std::atomic<int> next{0};
  std::mutex mu;
  std::vector<Sample> samples;
  std::vector<std::string> registered;
  std::atomic<int> failures{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&] {
      HttpClient http(server.port());
      while (!stop.load()) {
        int n = next.fetch_add(1);
        auto sent = Clock::now();
        auto reply = http.Post("/v1/people", RegisterBody(n), token);
        double ms = std::chrono::duration<double, std::milli>(Clock::now() - sent).count();
        std::lock_guard lock(mu);
        if (reply.status != 201) {
          ++failures;
          continue;
        }
        samples.push_back({sent, ms});
        registered.push_back(std::string(reply.Json().at("person_id").as_string()));
        std::this_thread::sleep_for(2ms);  // a paced client, not a saturating one
      }
    });
  }
  std::this_thread::sleep_for(1500ms);  // baseline
  HttpClient admin(server.port());
  const auto adopt_start = Clock::now();
  auto adopted = admin.Post("/v1/rules", RedatedDecember2021RuleSet(), server.Token());
  ASSERT_EQ(adopted.status, 201) << adopted.body;
  EXPECT_TRUE(adopted.Json().at("views").at("rebuilding").as_bool());
  while (views.status().switches == 0 && views.status().error.empty() && Clock::now() - adopt_start < 120s) {
    std::this_thread::sleep_for(1ms);
  }
  const auto switched = Clock::now();
  std::this_thread::sleep_for(500ms);
  stop.store(true);
  for (auto& t : clients) t.join();

  ASSERT_EQ(views.status().switches, 1u) << views.status().error;
  EXPECT_EQ(views.Current()->rules_position, adopted.Json().at("position").to_number<uint64_t>());
  EXPECT_EQ(failures.load(), 0);
  auto rules = admin.Get("/v1/rules", token).Json();
  EXPECT_FALSE(rules.at("views").at("rebuilding").as_bool());
  EXPECT_EQ(rules.at("rule_sets").as_array().front().at("id"), "2021-12-31-as-of-2020-10-12");

  std::vector<double> before, during;
  for (const Sample& s : samples) {
    if (s.sent < adopt_start) before.push_back(s.ms);
    if (s.sent >= adopt_start && s.sent < switched) during.push_back(s.ms);
  }
  const double rebuild_ms = std::chrono::duration<double, std::milli>(switched - adopt_start).count();
  std::printf("[ figures  ] rebuild of %llu events under the adopted rules: %.0f ms\n"
              "[ figures  ] command latency before: n=%zu p50=%.2f ms p99=%.2f ms max=%.2f ms\n"
              "[ figures  ] command latency during: n=%zu p50=%.2f ms p99=%.2f ms max=%.2f ms\n",
              static_cast<unsigned long long>(adopted.Json().at("position").to_number<uint64_t>()), rebuild_ms,
              before.size(), Percentile(before, 0.5), Percentile(before, 0.99), Percentile(before, 1.0),
              during.size(), Percentile(during, 0.5), Percentile(during, 0.99), Percentile(during, 1.0));
  EXPECT_GT(during.size(), 0u) << "no command was sent during the rebuild";

  // No command lost: every acknowledged registration is there and in the views' directory.
  const uint64_t committed = server.service().store().CommittedPosition();
  ASSERT_TRUE(views.Current()->runner->WaitForPosition(committed, 30s));
  for (const std::string& id : registered) ASSERT_EQ(admin.Get("/v1/people/" + id, token).status, 200) << id;
  views.Stop();
  for (const std::string& id : registered) {
    auto found = views.Current()->runner->FindPerson(id);
    ASSERT_TRUE(found && *found) << id;
  }
  // The live views equal a from-scratch rebuild.
  auto reference = app::LoadReferenceData(caseledger::TestSourceDir() + "/ops/reference");
  ASSERT_TRUE(reference);
  auto verified = replay::VerifyViews(server.service().store(), {server.data_dir() + "/data", *reference, "", {}});
  ASSERT_TRUE(verified) << verified.error().message;
  EXPECT_TRUE(verified->ok()) << verified->problem;
  EXPECT_EQ(verified->checkpoint, committed);
}

TEST(RuleAdoptionTest, DryRunAnswersTheWhatIfAndRecordsNothing) {
  TestServer server;
  auto& store = server.service().store();
  // Recovered on 09-30, a close contact from 10-20: 14 days under the log's rules, none
  // (recovered at most 120 days before) under the December 2021 ones.
  const std::string id = "01HFDRYRUN0000000000000001";
  eventstore::AppendRequest r;
  r.stream = domain::PersonStream(id);
  r.actor = {"preload", "operator"};
  auto add = [&](const domain::Event& e, domain::Timestamp t) {
    domain::EncodedEvent enc = domain::Encode(e);
    r.events.push_back({enc.type, enc.schema_version, enc.body, enc.personal, t});
  };
  auto day = [](int month, int d) { return domain::Timestamp::StartOfDay(domain::Date::FromYmd(2020, month, d)); };
  add(domain::PersonRegistered{id, domain::Sex::kMale, "001272", {}}, day(9, 1));
  add(domain::SwabRequested{"DRY-1", domain::SwabKind::kMolecular, "symptoms", "GP0001", {}}, day(9, 10));
  add(domain::SwabCollected{"DRY-1", day(9, 10), "drive-in", ""}, day(9, 10));
  add(domain::ResultRecorded{"DRY-1", domain::Outcome::kPositive, "LAB01", day(9, 11)}, day(9, 10));
  add(domain::CaseClosed{domain::CaseOutcome::kRecovered, domain::Date::FromYmd(2020, 9, 30)}, day(9, 30));
  add(domain::QuarantineOrdered{1, domain::Date::FromYmd(2020, 10, 20), "close_contact", "", {}}, day(10, 20));
  ASSERT_TRUE(store.Append(r));
  const uint64_t rules_version = *store.StreamVersion("rules");
  // The incremental what-if reads the affected people from the live views' measure-start
  // index: they must have applied the appended events first (without this wait the dry run
  // raced the views and, once under load, found nobody to change).
  ASSERT_TRUE(server.service().views().Current()->runner->WaitForPosition(store.CommittedPosition(), 60s));

  std::stringstream text;
  text << std::ifstream(caseledger::TestSourceDir() + "/ops/rules/2021-12-31.json").rdbuf();
  json::value set = json::parse(text.str());
  set.as_object()["effective_from"] = "2020-10-12";
  HttpClient http(server.port());
  auto diff = http.Post("/v1/rules?dry_run=true&on=2020-10-25", json::serialize(set), server.Token());
  ASSERT_EQ(diff.status, 200) << diff.body;
  json::value report = diff.Json();
  EXPECT_EQ(report.at("totals").at("people_changed").to_number<int>(), 1) << diff.body;
  EXPECT_EQ(report.at("measures").at(0).at("person_id").as_string(), id);
  EXPECT_EQ(report.at("measures").at(0).at("end_before").as_string(), "2020-11-03");
  EXPECT_EQ(report.at("measures").at(0).at("end_after").as_string(), "2020-10-20");
  EXPECT_EQ(report.at("statuses").at(0).at("after").as_string(), "none");
  EXPECT_EQ(*store.StreamVersion("rules"), rules_version);  // nothing recorded
  EXPECT_EQ(server.service().views().status().switches, 0u);
  EXPECT_EQ(http.Post("/v1/rules?dry_run=maybe", json::serialize(set), server.Token()).status, 400);
}

}  // namespace
}  // namespace caseledger::testing
