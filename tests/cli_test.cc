// The command-line contract of replay, history and verify (docs/cli.md): exit 0 ok, 1 failure,
// 2 usage error with one line on stderr; run as a child process on a stopped server's data.
#include "domain/event_codec.h"
#include "domain/events.h"
#include "eventstore/event_store.h"
#include "serving/live_views.h"
#include "replay/rules_log.h"
#include "projections/views_pointer.h"

#include "projections/views_test_support.h"
#include "tests/support/cli_runner.h"
#include "tests/support/test_store.h"
#include "tests/support/build_paths.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <sys/wait.h>

#include <boost/json.hpp>

#include <array>
#include <cstdio>

namespace caseledger::testing {
namespace {

using namespace caseledger::projections::testing;

using Outcome = CliOutcome;

Outcome Caseledger(const std::string& args, const std::string& dir) {
  return RunCli(BuiltExecutable("caseledger"), args, dir);
}

// The load generator is a tool of its own (tools/).
Outcome Loadgen(const std::string& args, const std::string& dir) {
  return RunCli(BuiltExecutable("caseledger-loadgen"), args, dir);
}

// Lines of the text that are not log lines of the libraries ("[2026-... ] [module] ...").
size_t MessageLines(const std::string& text) {
  size_t lines = 0;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines += !line.empty() && line[0] != '[';
  return lines;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.path();
    auto store = eventstore::EventStore::Open(caseledger::testing::StoreOptionsIn(data_));
    ASSERT_TRUE(store) << store.error().message;
    ASSERT_TRUE(replay::BootstrapRules(**store, *Rules()));
    person_ = PersonId(7);
    // Recovered on 09-30, quarantined as a contact from 10-20.
    eventstore::AppendRequest r;
    r.stream = domain::PersonStream(person_);
    r.actor = {"operator-1", "operator"};
    auto add = [&](const domain::Event& e, domain::Timestamp at) {
      domain::EncodedEvent enc = domain::Encode(e);
      r.events.push_back({enc.type, enc.schema_version, enc.body, enc.personal, at});
    };
    add(domain::PersonRegistered{person_, domain::Sex::kMale, "001272", {}}, At("2020-09-01", 9));
    add(domain::SwabRequested{"SW-CLI", domain::SwabKind::kMolecular, "symptoms", "GP0001", {}}, At("2020-09-10", 8));
    add(domain::SwabCollected{"SW-CLI", At("2020-09-10", 9), "drive-in", ""}, At("2020-09-10", 9));
    add(domain::ResultRecorded{"SW-CLI", domain::Outcome::kPositive, "LAB01", At("2020-09-11", 9)}, At("2020-09-10", 9));
    add(domain::CaseClosed{domain::CaseOutcome::kRecovered, D("2020-09-30")}, At("2020-09-30", 9));
    add(domain::QuarantineOrdered{1, D("2020-10-20"), "close_contact", "", {}}, At("2020-10-20", 9));
    ASSERT_TRUE((*store)->Append(r));
    serving::LiveViewsOptions lo;
    lo.data_dir = data_;
    lo.reference = Reference();
    auto live = serving::LiveViews::Open(**store, lo);
    ASSERT_TRUE(live) << live.error().message;
  }

  std::string D_() const { return "--data " + data_; }

  TempDir dir_;
  std::string data_;
  std::string person_;
};

// A scale run's store that `serve` has been started on holds the rule sets serve adopted
// (the "rules" stream) besides the workload: `caseledger-loadgen --resume` counts only the workload's.
TEST(LoadgenCliTest, ResumeLeavesTheRulesServeAdoptedOutOfTheWorkloadsCount) {
  TempDir dir;
  const std::string data = dir.path() + "/d";
  const std::string load = "--sink store --data " + data +
                           " --from 2020-10-01 --to 2020-10-03 --scale 1:2000 --format tsv";
  Outcome first = Loadgen(load, dir.path());
  ASSERT_EQ(first.code, 0) << first.err;
  uint64_t events = std::stoull(first.out.substr(first.out.find('\t') + 1));
  ASSERT_GT(events, 0u);
  uint64_t adopted = 0;
  {
    auto store = eventstore::EventStore::Open(caseledger::testing::StoreOptionsIn(data));
    ASSERT_TRUE(store) << store.error().message;
    auto added = replay::BootstrapRules(**store, *Rules());
    ASSERT_TRUE(added);
    adopted = *added;
    ASSERT_GT(adopted, 0u);
  }
  Outcome again = Loadgen(load, dir.path());
  EXPECT_EQ(again.code, 1) << "a store holding events needs --resume";
  Outcome resumed = Loadgen(load + " --resume", dir.path());
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_EQ(std::stoull(resumed.out.substr(resumed.out.find('\t') + 1)), events);
  EXPECT_NE(resumed.err.find("resuming after the " + std::to_string(events) + " events of the workload"),
            std::string::npos)
      << resumed.err;
}

// The bulk load (its batches handed to an import thread and handed back emptied, to be
// filled again) holds what the same load appended one request at a time holds: as many
// events, people, refusals, swabs and positives. A batch handed back not emptied, or one
// lost, would add requests twice or drop them (the loader checks the store's count).
TEST(LoadgenCliTest, ABulkLoadHoldsWhatTheSameLoadAppendedHolds) {
  TempDir dir;
  const std::string days = " --from 2020-10-01 --to 2020-10-31 --scale 1:1000 --format tsv";
  Outcome appended = Loadgen("--sink store --data " + dir.path() + "/appended" + days, dir.path());
  ASSERT_EQ(appended.code, 0) << appended.err;
  Outcome imported = Loadgen("--sink import --data " + dir.path() + "/imported" + days, dir.path());
  ASSERT_EQ(imported.code, 0) << imported.err;
  // loadgen-store events seconds rate bytes people rejected swabs positives rss
  auto fields = [](const std::string& line) {
    std::vector<std::string> out;
    std::istringstream in(line);
    for (std::string f; std::getline(in, f, '\t');) out.push_back(f);
    return out;
  };
  const auto a = fields(appended.out), b = fields(imported.out);
  ASSERT_EQ(a.size(), 10u) << appended.out;
  ASSERT_EQ(b.size(), 10u) << imported.out;
  EXPECT_GT(std::stoull(a[1]), 1'000u) << "31 days: 31 batches at least, each handed back";
  for (size_t i : {1, 5, 6, 7, 8}) EXPECT_EQ(a[i], b[i]) << "field " << i;
}

// backup (no server running: the command opens the store itself), verify --backup, restore
// to a position, then verify the restored directory; a restore over a store is refused.
TEST_F(CliTest, BackupVerifyAndRestoreToAPosition) {
  const std::string dest = dir_.path() + "/backup", restored = dir_.path() + "/restored";
  Outcome b = Caseledger("backup " + D_() + " --to " + dest, data_);
  ASSERT_EQ(b.code, 0) << b.out << b.err;
  EXPECT_NE(b.out.find("log up to position 12"), std::string::npos) << b.out;
  EXPECT_NE(b.out.find("taken by this process"), std::string::npos) << b.out;
  Outcome v = Caseledger("verify --backup " + dest, data_);
  EXPECT_EQ(v.code, 0) << v.out << v.err;
  EXPECT_NE(v.out.find("1 backups match their checksums"), std::string::npos) << v.out;
  Outcome r = Caseledger("restore --from " + dest + " --data " + restored + " --to-position 11", data_);
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("verified from position 1 to 11"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 later events cut"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("views rebuilt to position 11"), std::string::npos) << r.out;
  Outcome rv = Caseledger("verify --data " + restored, data_);
  EXPECT_EQ(rv.code, 0) << rv.out << rv.err;
  EXPECT_NE(rv.out.find("ok: 11 events"), std::string::npos) << rv.out;
  Outcome again = Caseledger("restore --from " + dest + " --data " + restored, data_);
  EXPECT_EQ(again.code, 1) << again.out;
  Outcome both = Caseledger("restore --from " + dest + " --data " + restored + "2 --to-position 3 --to-time 2020-01-01T00:00:00Z", data_);
  EXPECT_EQ(both.code, 2);
  Outcome none = Caseledger("verify --backup " + dir_.path() + "/nothing", data_);
  EXPECT_EQ(none.code, 1);
}

TEST_F(CliTest, VerifyHistoryAndReplayAnswerWithTheContractsExitCodes) {
  Outcome v = Caseledger("verify " + D_(), data_);
  EXPECT_EQ(v.code, 0) << v.out << v.err;
  EXPECT_NE(v.out.find("ok: views views at position 12"), std::string::npos) << v.out;

  Outcome h = Caseledger("history " + D_() + " " + person_, data_);
  EXPECT_EQ(h.code, 0) << h.err;
  EXPECT_NE(h.out.find("ResultRecorded"), std::string::npos) << h.out;
  EXPECT_NE(h.out.find("by operator-1 (operator)"), std::string::npos) << h.out;
  Outcome h_then = Caseledger("history " + D_() + " " + person_ + " --as-of 2000-01-01T00:00:00Z", data_);
  EXPECT_EQ(h_then.code, 1);  // nothing recorded by then
  Outcome h_bad = Caseledger("history " + D_() + " not-an-id", data_);
  EXPECT_EQ(h_bad.code, 2);
  EXPECT_EQ(MessageLines(h_bad.err), 1u) << h_bad.err;

  Outcome no_rules = Caseledger("replay " + D_(), data_);
  EXPECT_EQ(no_rules.code, 2);
  EXPECT_EQ(MessageLines(no_rules.err), 1u) << no_rules.err;
  Outcome bad_until = Caseledger("replay " + D_() + " --rules " + caseledger::TestSourceDir() + "/ops/rules/2021-12-31.json --until yesterday", data_);
  EXPECT_EQ(bad_until.code, 2);

  const std::string what_if = "replay " + D_() + " --rules " + caseledger::TestSourceDir() + "/ops/rules/2021-12-31.json" +
                              " --effective-from 2020-10-12 --on 2020-10-25";
  Outcome j = Caseledger(what_if + " --format json", data_);
  ASSERT_EQ(j.code, 0) << j.err;
  auto report = boost::json::parse(j.out);
  EXPECT_EQ(report.at("totals").at("people_changed").to_number<int>(), 1);
  EXPECT_EQ(report.at("measures").at(0).at("person_id").as_string(), person_);
  EXPECT_EQ(report.at("measures").at(0).at("end_before").as_string(), "2020-11-03");
  EXPECT_EQ(report.at("measures").at(0).at("end_after").as_string(), "2020-10-20");

  Outcome adopt = Caseledger(what_if + " --adopt", data_);
  ASSERT_EQ(adopt.code, 0) << adopt.err;
  auto pointer = projections::ReadViewsPointer(data_);
  ASSERT_TRUE(pointer && *pointer);
  EXPECT_EQ((*pointer)->rules_position, 13u);
  EXPECT_EQ((*pointer)->dir, projections::ViewsDirFor(13));
  Outcome again = Caseledger(what_if + " --format json", data_);
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(boost::json::parse(again.out).at("totals").at("people_changed").to_number<int>(), 0);  // adopted
  Outcome verified = Caseledger("verify " + D_(), data_);
  EXPECT_EQ(verified.code, 0) << verified.out << verified.err;
}

TEST_F(CliTest, VerifyExitsOneOnAViewEntryThatDiffersFromTheRebuild) {
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open({}, data_ + "/views", &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  std::string v;
  ASSERT_TRUE(db->Get({}, "people/" + person_, &v).ok());
  v.back() ^= 1;
  ASSERT_TRUE(db->Put({}, "people/" + person_, v).ok());
  db.reset();
  Outcome r = Caseledger("verify " + D_(), data_);
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("BROKEN views"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("people/" + person_), std::string::npos) << r.out;
  Outcome chain = Caseledger("verify --chain-only " + D_(), data_);
  EXPECT_EQ(chain.code, 0) << chain.out << chain.err;
}

}  // namespace
}  // namespace caseledger::testing
