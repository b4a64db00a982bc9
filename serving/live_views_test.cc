// Blue-green adoption of rebuilt views (live_views.h): a rebuild running while events keep
// arriving ends with views equal to a from-scratch rebuild and nothing missing; a rebuild
// abandoned where a crash would stop it leaves the old views live, and the next open
// serves the old views while it finishes the rebuild. A thread's Rules() is the live views'
// book and position, before and after a switch, without holding the views.
#include "serving/live_views.h"

#include "projections/municipality_view.h"
#include "projections/views_pointer.h"
#include "projections/views_test_support.h"
#include "replay/rules_log.h"
#include "replay/verify_views.h"
#include "tests/support/build_paths.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <atomic>
#include <filesystem>
#include <thread>

namespace caseledger::serving {
namespace {

using namespace caseledger::projections::testing;
using namespace caseledger::replay;
using projections::ReadViewsPointer;
using projections::ViewsDirFor;
using projections::ViewsPointer;
using namespace std::chrono_literals;

constexpr const char* kTorino = "001272";

std::shared_ptr<const domain::RuleSet> RedatedDecember2021() {
  auto doc = boost::json::parse(ReadFile(caseledger::TestSourceDir() + "/ops/rules/2021-12-31.json"));
  doc.as_object()["effective_from"] = "2020-10-12";
  auto set = domain::RuleSet::Parse(boost::json::serialize(doc));
  if (!set) throw std::runtime_error(set.error().message);
  return std::make_shared<const domain::RuleSet>(std::move(*set));
}

class LiveViewsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = log_.Path("data");
    std::filesystem::create_directories(data_);
    ASSERT_TRUE(BootstrapRules(log_.store(), *Rules()));
    // One person in Torino, recovered on 09-30, in quarantine from 10-20: 14 days under the
    // 12 Oct 2020 rules, none (recovered at most 120 days before) under the candidate.
    const std::string p = PersonId(1);
    log_.Person(p, {{domain::PersonRegistered{p, domain::Sex::kMale, kTorino, {}}, At("2020-09-01", 9)},
                    {domain::SwabRequested{"SW-1", domain::SwabKind::kMolecular, "symptoms", "GP0001", {}}, At("2020-09-10", 8)},
                    {domain::SwabCollected{"SW-1", At("2020-09-10", 9), "drive-in", ""}, At("2020-09-10", 9)},
                    {domain::ResultRecorded{"SW-1", domain::Outcome::kPositive, "LAB01", At("2020-09-11", 9)}, At("2020-09-10", 9)},
                    {domain::CaseClosed{domain::CaseOutcome::kRecovered, D("2020-09-30")}, At("2020-09-30", 9)},
                    {domain::QuarantineOrdered{1, D("2020-10-20"), "close_contact", "", {}}, At("2020-10-20", 9)}});
  }

  LiveViewsOptions Options() {
    LiveViewsOptions o;
    o.data_dir = data_;
    o.reference = Reference();
    o.rebuild_nice = 0;
    o.poll = 5ms;
    return o;
  }

  // People registering and being swabbed in Torino, `n` appends of 3 events.
  void AppendPeople(int first, int n, std::vector<uint64_t>* acknowledged = nullptr) {
    for (int i = first; i < first + n; ++i) {
      const std::string p = PersonId(1000 + i);
      const std::string swab = "SW-P" + std::to_string(i);
      uint64_t at = log_.Person(
          p, {{domain::PersonRegistered{p, domain::Sex::kFemale, kTorino, {}}, At("2020-10-21", 9)},
              {domain::SwabRequested{swab, domain::SwabKind::kAntigen, "screening", "GP0001", {}}, At("2020-10-22", 8)},
              {domain::SwabCollected{swab, At("2020-10-22", 9), "drive-in", ""}, At("2020-10-22", 9)}});
      if (acknowledged) acknowledged->push_back(at);
    }
  }

  static int64_t Quarantines(const ServingViews& v) {
    return v.municipalities().Municipality(kTorino, D("2020-10-25"))->figures.active_quarantines;
  }

  TestLog log_;
  std::string data_;
};

TEST_F(LiveViewsTest, RebuildUnderAppendsEndsEqualToAFromScratchRebuildWithNothingMissing) {
  AppendPeople(0, 1200);
  auto live = LiveViews::Open(log_.store(), Options());
  ASSERT_TRUE(live) << live.error().message;
  auto before = (*live)->Current();
  EXPECT_EQ(before->dir, "views");
  EXPECT_EQ(Quarantines(*before), 1);

  std::vector<uint64_t> acknowledged;
  std::thread appender([&] { AppendPeople(5000, 600, &acknowledged); });
  auto adopted = RecordAdoption(log_.store(), *RedatedDecember2021(), {});
  ASSERT_TRUE(adopted);
  (*live)->Adopt(adopted->last_position);
  ASSERT_TRUE((*live)->WaitIdle(120s));
  appender.join();

  auto after = (*live)->Current();
  EXPECT_EQ((*live)->status().switches, 1u);
  EXPECT_TRUE((*live)->status().error.empty()) << (*live)->status().error;
  EXPECT_EQ(after->rules_position, adopted->last_position);
  EXPECT_EQ(after->dir, ViewsDirFor(adopted->last_position));
  EXPECT_EQ(**ReadViewsPointer(data_), (ViewsPointer{after->dir, adopted->last_position}));
  const uint64_t committed = log_.store().CommittedPosition();
  ASSERT_TRUE(after->runner->WaitForPosition(committed, 30s));
  EXPECT_EQ(Quarantines(*after), 0);  // the recovered contact needs no quarantine any more
  for (uint64_t p : acknowledged) EXPECT_LE(p, after->runner->Position());
  before.reset();  // the retired views are released once no reader holds them
  for (int i = 0; i < 400 && std::filesystem::exists(data_ + "/views"); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_FALSE(std::filesystem::exists(data_ + "/views"));

  (*live)->Stop();
  auto verified = VerifyViews(log_.store(), {data_, Reference(), "", {}});
  ASSERT_TRUE(verified) << verified.error().message;
  EXPECT_TRUE(verified->ok()) << verified->problem;
  EXPECT_EQ(verified->checkpoint, committed);
  EXPECT_GT(verified->entries_checked, 1800u);  // every person's record among them
}

TEST_F(LiveViewsTest, AStartFromScratchTellsWhereItsCatchUpStandsFirstAtPositionZero) {
  AppendPeople(0, 300);
  const uint64_t committed = log_.store().CommittedPosition();
  std::vector<projections::CatchUpProgress> told;
  LiveViewsOptions o = Options();
  o.on_catch_up = [&](const projections::CatchUpProgress& p) { told.push_back(p); };
  auto live = LiveViews::Open(log_.store(), o);
  ASSERT_TRUE(live) << live.error().message;
  ASSERT_FALSE(told.empty());
  EXPECT_EQ(told.front().position, 0u);  // before the catch-up: nothing applied yet
  EXPECT_EQ(told.front().target, committed);
  EXPECT_EQ((*live)->Position(), committed);
  (*live)->Stop();
  live->reset();  // the views database closed

  // Opened again at the log's end: told once, with nothing left to do.
  told.clear();
  auto again = LiveViews::Open(log_.store(), o);
  ASSERT_TRUE(again) << again.error().message;
  ASSERT_EQ(told.size(), 1u);
  EXPECT_EQ(told.front().position, committed);
  EXPECT_TRUE(told.front().done());
  (*again)->Stop();
}

TEST_F(LiveViewsTest, AbandonedRebuildLeavesTheOldViewsLiveAndTheNextOpenFinishesIt) {
  auto adopted_position = uint64_t{0};
  {
    LiveViewsOptions o = Options();
    o.before_switch = [] { return false; };  // stop where a crash would
    auto live = LiveViews::Open(log_.store(), o);
    ASSERT_TRUE(live) << live.error().message;
    auto adopted = RecordAdoption(log_.store(), *RedatedDecember2021(), {});
    ASSERT_TRUE(adopted);
    adopted_position = adopted->last_position;
    (*live)->Adopt(adopted_position);
    ASSERT_TRUE((*live)->WaitIdle(60s));
    EXPECT_EQ((*live)->status().switches, 0u);
    EXPECT_EQ((*live)->Current()->dir, "views");
    EXPECT_EQ(Quarantines(*(*live)->Current()), 1);  // still the old rules
    EXPECT_TRUE(std::filesystem::exists(data_ + "/" + ViewsDirFor(adopted_position)));
  }
  EXPECT_EQ((*ReadViewsPointer(data_))->dir, "views");

  // Restart: the old views answer at once; the log's newer adoption is rebuilt and switched.
  std::atomic<bool> release{false};
  LiveViewsOptions o = Options();
  o.before_switch = [&] {
    while (!release.load()) std::this_thread::sleep_for(1ms);
    return true;
  };
  auto live = LiveViews::Open(log_.store(), o);
  ASSERT_TRUE(live) << live.error().message;
  EXPECT_TRUE((*live)->status().rebuilding);
  EXPECT_EQ((*live)->Current()->dir, "views");
  EXPECT_EQ(Quarantines(*(*live)->Current()), 1);
  release.store(true);
  ASSERT_TRUE((*live)->WaitIdle(60s));
  EXPECT_EQ((*live)->Current()->rules_position, adopted_position);
  EXPECT_EQ(Quarantines(*(*live)->Current()), 0);
  EXPECT_EQ((*ReadViewsPointer(data_))->dir, ViewsDirFor(adopted_position));
}

// Rules() answers from what the calling thread kept until a switch, then from the new
// views, on every thread; the thread keeps the book, not the views, whose directory is
// removed once their last reader lets them go.
TEST_F(LiveViewsTest, ARulesReadAfterASwitchIsTheNewBooksAndKeepsNoViews) {
  auto live = LiveViews::Open(log_.store(), Options());
  ASSERT_TRUE(live) << live.error().message;
  LiveViews& views = **live;
  const uint64_t first_position = views.Current()->rules_position;
  const LiveViews::RulesNow& before = views.Rules();
  EXPECT_EQ(before.book, views.Current()->rules.get());
  EXPECT_EQ(before.position, first_position);
  EXPECT_EQ(&views.Rules(), &before);  // the thread's own, kept
  {
    auto held = views.Current();
    const long readers = held.use_count();
    views.Rules();
    EXPECT_EQ(held.use_count(), readers);  // no views held by the thread
  }

  auto adopted = RecordAdoption(log_.store(), *RedatedDecember2021(), {});
  ASSERT_TRUE(adopted);
  views.Adopt(adopted->last_position);
  ASSERT_TRUE(views.WaitIdle(60s));
  ASSERT_EQ(views.status().switches, 1u);
  const auto now = views.Current();
  const LiveViews::RulesNow after = views.Rules();
  EXPECT_EQ(after.position, adopted->last_position);
  EXPECT_NE(after.position, first_position);
  EXPECT_EQ(after.book, now->rules.get());
  LiveViews::RulesNow elsewhere;
  std::thread([&] { elsewhere = views.Rules(); }).join();
  EXPECT_EQ(elsewhere.book, now->rules.get());
  EXPECT_EQ(elsewhere.position, adopted->last_position);

  // The old views are released and their directory removed, though this thread read
  // their book before the switch.
  bool removed = false;
  for (int i = 0; i < 300 && !removed; ++i) {
    removed = !std::filesystem::exists(data_ + "/views");
    if (!removed) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(removed);
}

}  // namespace
}  // namespace caseledger::serving
