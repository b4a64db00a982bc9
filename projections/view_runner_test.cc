// The runner: checkpoint and state together, poison events, reopening, rebuilding, the
// follower thread and change announcements.
#include "projections/views_db.h"
#include "projections/views_test_support.h"
#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>

namespace caseledger::projections {
namespace {

using namespace caseledger::projections::testing;
using domain::Outcome;
using domain::SwabKind;

class ViewRunnerTest : public ::testing::Test {
 protected:
  void PositiveCase(int n, const char* istat = "001272") { log_.PositiveCase(n, istat); }
  eventstore::StoreResult<std::unique_ptr<ViewRunner>> Open(uint64_t until = 0, size_t batch = 3,
                                                            bool read_ahead = false) {
    RunnerOptions o;
    o.read_ahead = read_ahead;
    o.path = log_.Path("views");
    o.rules = Rules();
    o.until = until;
    o.max_batch = batch;
    return ViewRunner::Open(log_.store(), MakeViews(), o);
  }
  std::unique_ptr<ViewRunner> Rebuilt(const std::string& name) {
    RebuildOptions o;
    o.path = log_.Path(name);
    o.rules = Rules();
    auto r = Rebuild(log_.store(), MakeViews(), o);
    if (!r) ADD_FAILURE() << r.error().message;
    return r ? std::move(*r) : nullptr;
  }
  int64_t TorinoCases(const ViewRunner& r) {
    return r.Get<MunicipalityView>("municipalities")->FiguresOn("001272", D("2020-10-30"))->cumulative_cases;
  }

  TestLog log_;
  const std::vector<domain::Date> days_ = {D("2020-10-21"), D("2020-10-22"), D("2020-11-30")};
};

TEST_F(ViewRunnerTest, CatchUpAppliesEverythingCommittedAndPublishes) {
  for (int i = 0; i < 4; ++i) PositiveCase(i);
  auto r = Open();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ((*r)->Position(), 0u);
  auto reached = (*r)->CatchUp();
  ASSERT_TRUE(reached);
  EXPECT_EQ(*reached, 20u);
  EXPECT_EQ((*r)->Position(), 20u);
  EXPECT_EQ((*r)->metrics().batches_written.load(), 7u);  // batches of 3
  EXPECT_EQ(TorinoCases(**r), 4);
  EXPECT_EQ((*r)->Get<RegionView>("region")->position(), 20u);
  EXPECT_EQ((*r)->CachedPeople(), 4u);
}

// Counts what the runner publishes of the view it wraps.
class PublishCounting final : public View {
 public:
  PublishCounting(std::unique_ptr<View> inner, std::vector<uint64_t>& published)
      : inner_(std::move(inner)), published_(published) {}
  std::string_view name() const override { return inner_->name(); }
  bool Load(std::string_view k, std::string_view v) override { return inner_->Load(k, v); }
  void Apply(const LogEvent& e, const PersonRecord* p, PersistSink& s) override { inner_->Apply(e, p, s); }
  void Persist(PersistSink& s) override { inner_->Persist(s); }
  void Publish(uint64_t position) override {
    published_.push_back(position);
    inner_->Publish(position);
  }
  bool Reset() override { return inner_->Reset(); }
  std::vector<std::string> ChangedKeys() const override { return inner_->ChangedKeys(); }

 private:
  std::unique_ptr<View> inner_;
  std::vector<uint64_t>& published_;
};

// A catch-up over many batches that nobody reads or listens to (serve's start, a rebuild)
// publishes its views once, at its end, while its progress still moves batch by batch; one
// with a change listener publishes along the way.
// The person records' budget in bytes gives way to the index and filter blocks no cache
// holds (RunnerOptions::records_give_way_to_tables): what `other_tables` says (a server:
// the store's table readers) and the views database's own, measured as they grow.
TEST_F(ViewRunnerTest, PersonRecordsGiveWayToTableReadersWhenAsked) {
  constexpr int kPeople = 3000;
  for (int i = 0; i < kPeople; ++i) {
    const std::string p = PersonId(i);
    log_.Person(p, {{domain::PersonRegistered{p, domain::Sex::kFemale, "001272", {}}, At("2020-10-20", 8)}});
  }
  constexpr size_t kBudget = size_t{64} << 20;  // every record, ~1 KiB each at most
  struct Case {
    const char* name;
    bool give_way;
    size_t other;
  };
  std::map<std::string, uint64_t> cached;
  for (const Case& c : {Case{"give way, nothing else", true, 0}, Case{"give way to 63.9 MiB", true, kBudget - (100 << 10)},
                        Case{"not asked to give way", false, kBudget}}) {
    RunnerOptions o;
    o.path = log_.Path(std::string("views-") + std::to_string(cached.size()));
    o.rules = Rules();
    o.max_batch = 500;
    o.catch_up_write_every = 0;
    o.partitions = 2;
    o.threads = 2;
    o.person_cache_bytes = kBudget;
    o.records_give_way_to_tables = c.give_way;
    o.other_tables = [other = c.other] { return other; };
    auto r = ViewRunner::Open(log_.store(), MakeViews(), o);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(*(*r)->CatchUp(), static_cast<uint64_t>(kPeople));
    cached[c.name] = (*r)->Memory().person_records;
  }
  EXPECT_EQ(cached["give way, nothing else"], static_cast<uint64_t>(kPeople));
  EXPECT_EQ(cached["not asked to give way"], static_cast<uint64_t>(kPeople));
  // ~100 KiB left to the records beside the tables: the floor of 1,024 records holds.
  EXPECT_LE(cached["give way to 63.9 MiB"], 1024u);
  EXPECT_GT(cached["give way to 63.9 MiB"], 0u);
}

// The tables' memory moves only with flushes and compactions: it is measured at most every
// kTablesEvery (250 ms), not at every batch (RocksDB's properties were ~4 % of the views'
// thread under commands, a batch of a few events each).
TEST_F(ViewRunnerTest, TheTablesMemoryIsMeasuredAtMostEveryQuarterSecond) {
  constexpr int kPeople = 2000;
  for (int i = 0; i < kPeople; ++i) {
    const std::string p = PersonId(i);
    log_.Person(p, {{domain::PersonRegistered{p, domain::Sex::kFemale, "001272", {}}, At("2020-10-20", 8)}});
  }
  RunnerOptions o;
  o.path = log_.Path("views-tables");
  o.rules = Rules();
  o.max_batch = 10;  // 200 batches
  o.catch_up_write_every = 0;
  o.person_cache_bytes = size_t{64} << 20;
  o.records_give_way_to_tables = true;
  auto calls = std::make_shared<std::atomic<int>>(0);
  o.other_tables = [calls] {
    ++*calls;
    return size_t{0};
  };
  const auto start = std::chrono::steady_clock::now();
  auto r = ViewRunner::Open(log_.store(), MakeViews(), o);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(*(*r)->CatchUp(), static_cast<uint64_t>(kPeople));
  const auto quarters = (std::chrono::steady_clock::now() - start) / std::chrono::milliseconds(250);
  EXPECT_GE(calls->load(), 1);
  // Once at the first batch, then at most once per quarter second that passed.
  EXPECT_LE(calls->load(), 1 + quarters) << "over " << kPeople / 10 << " batches";
  EXPECT_EQ((*r)->Memory().person_records, static_cast<uint64_t>(kPeople));
}

TEST_F(ViewRunnerTest, ACatchUpNobodyReadsPublishesOnlyAtItsEnd) {
  for (int i = 0; i < 40; ++i) PositiveCase(i);  // 200 events
  for (bool listening : {false, true}) {
    SCOPED_TRACE(listening ? "with a change listener" : "nobody reading");
    std::vector<uint64_t> published, progress;
    RunnerOptions o;
    o.path = log_.Path(listening ? "views-listened" : "views-alone");
    o.rules = Rules();
    o.max_batch = 16;
    o.read_ahead = true;
    o.catch_up_write_every = 0;  // every batch (deferred writing: the test below)
    o.partitions = 2;
    o.threads = 2;
    o.progress_every = std::chrono::milliseconds(0);
    o.on_progress = [&](const CatchUpProgress& p) { progress.push_back(p.position); };
    auto views = MakeViews();
    for (auto& v : views) {
      if (v->name() == "labs") v = std::make_unique<PublishCounting>(std::move(v), published);
    }
    auto r = ViewRunner::Open(log_.store(), std::move(views), o);
    ASSERT_TRUE(r) << r.error().message;
    published.clear();
    std::vector<uint64_t> announced;
    if (listening) {
      (*r)->OnChanges([&](const std::vector<ViewChange>& changes) {
        for (const auto& c : changes) announced.push_back(c.position);
      });
    }
    ASSERT_EQ(*(*r)->CatchUp(), 200u);
    EXPECT_EQ((*r)->Position(), 200u);
    EXPECT_EQ(TorinoCases(**r), 40);
    ASSERT_FALSE(published.empty());
    EXPECT_EQ(published.back(), 200u);
    if (listening) {
      EXPECT_GE(published.size(), 3u);  // every fourth batch of 16 events, and the last
    } else {
      EXPECT_EQ(published.size(), 1u);
    }
    // The progress reports passed through the batches written before the end.
    EXPECT_TRUE(std::any_of(progress.begin(), progress.end(), [](uint64_t p) { return p > 0 && p < 200; }));
    EXPECT_TRUE(std::is_sorted(progress.begin(), progress.end()));
    ASSERT_FALSE(progress.empty());
    EXPECT_EQ(progress.back(), 200u);
  }
}

// Nobody reading, a catch-up writes every catch_up_write_every events, not every batch:
// each person and row once per write, the same views, progress at each write.
TEST_F(ViewRunnerTest, ACatchUpNobodyReadsWritesEveryFewBatches) {
  for (int i = 0; i < 40; ++i) PositiveCase(i);  // 200 events
  std::string dumps[2];
  for (size_t every : {size_t{0}, size_t{64}}) {
    SCOPED_TRACE("written every " + std::to_string(every));
    std::vector<uint64_t> progress;
    RunnerOptions o;
    o.path = log_.Path("views-" + std::to_string(every));
    o.rules = Rules();
    o.max_batch = 16;
    o.read_ahead = true;
    o.catch_up_write_every = every;
    o.partitions = 2;
    o.threads = 2;
    o.progress_every = std::chrono::milliseconds(0);
    o.on_progress = [&](const CatchUpProgress& p) { progress.push_back(p.position); };
    auto r = ViewRunner::Open(log_.store(), MakeViews(), o);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(*(*r)->CatchUp(), 200u);
    EXPECT_EQ(TorinoCases(**r), 40);
    EXPECT_EQ((*r)->metrics().events_applied.load(), 200u);
    // Batches of 16 events: 13 writes, or one at 64, 128, 192 and the end.
    EXPECT_EQ((*r)->metrics().batches_written.load(), every ? 4u : 13u);
    if (every) {
      EXPECT_EQ(std::set<uint64_t>(progress.begin(), progress.end()), (std::set<uint64_t>{64, 128, 192, 200}));
    }
    dumps[every ? 1 : 0] = DumpViews(**r, days_);
    r->reset();
    auto reopened = ViewRunner::Open(log_.store(), MakeViews(), o);
    ASSERT_TRUE(reopened);
    EXPECT_EQ((*reopened)->Position(), 200u);
    EXPECT_EQ(DumpViews(**reopened, days_), dumps[every ? 1 : 0]);
  }
  EXPECT_EQ(dumps[1], dumps[0]);
}

// A follower whose views nobody reads yet (a blue-green rebuild before its switch) catches
// up the same way; set read again, it publishes every batch.
TEST_F(ViewRunnerTest, AnUnreadFollowerWritesEveryFewBatches) {
  for (int i = 0; i < 40; ++i) PositiveCase(i);  // 200 events
  RunnerOptions o;
  o.path = log_.Path("views");
  o.rules = Rules();
  o.max_batch = 16;
  o.read_ahead = true;
  o.catch_up_write_every = 64;
  o.partitions = 2;
  o.threads = 2;
  o.poll = std::chrono::milliseconds(5);
  auto r = ViewRunner::Open(log_.store(), MakeViews(), o);
  ASSERT_TRUE(r) << r.error().message;
  (*r)->SetUnread(true);
  (*r)->Start();
  ASSERT_TRUE((*r)->WaitForPosition(200, std::chrono::seconds(30)));
  (*r)->Stop();
  EXPECT_EQ((*r)->metrics().batches_written.load(), 4u);  // at 64, 128, 192 and 200
  EXPECT_EQ(TorinoCases(**r), 40);
  (*r)->SetUnread(false);
  for (int i = 40; i < 48; ++i) PositiveCase(i);  // 40 events more: three batches
  (*r)->Start();
  ASSERT_TRUE((*r)->WaitForPosition(240, std::chrono::seconds(30)));
  (*r)->Stop();
  EXPECT_EQ((*r)->metrics().batches_written.load(), 7u);
  EXPECT_EQ(TorinoCases(**r), 48);
}

TEST_F(ViewRunnerTest, StoppedMidwayAndReopenedEqualsARebuild) {
  for (int i = 0; i < 6; ++i) PositiveCase(i, i % 2 ? "001272" : "001156");
  {
    auto r = Open(/*until=*/13);
    ASSERT_TRUE(r);
    ASSERT_EQ(*(*r)->CatchUp(), 13u);  // in the middle of a person's events
  }
  auto r = Open();
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)->Position(), 13u);
  ASSERT_EQ(*(*r)->CatchUp(), 30u);
  EXPECT_EQ((*r)->metrics().events_applied.load(), 17u);  // only what was missing
  auto rebuilt = Rebuilt("rebuilt");
  ASSERT_TRUE(rebuilt);
  EXPECT_EQ(DumpViews(**r, days_), DumpViews(*rebuilt, days_));
}

TEST_F(ViewRunnerTest, PoisonEventStopsTheRunnerAtItsPositionAndIsNeverSkipped) {
  PositiveCase(1);
  eventstore::AppendRequest bad;
  bad.stream = domain::PersonStream(PersonId(1));
  bad.events.push_back({"SwabCollected", 1, "\x01\x02", "", At("2020-10-23", 9)});  // too short
  ASSERT_TRUE(log_.store().Append(bad));  // position 6
  PositiveCase(2);
  {
    auto r = Open(0, 100);
    ASSERT_TRUE(r);
    auto reached = (*r)->CatchUp();
    ASSERT_FALSE(reached);
    EXPECT_EQ(reached.error().code, eventstore::StoreErrorCode::kCorruption);
    EXPECT_EQ(reached.error().position, 6u);
    EXPECT_EQ((*r)->failed_position(), 6u);
    EXPECT_NE((*r)->failure().find("does not decode"), std::string::npos) << (*r)->failure();
    EXPECT_EQ((*r)->Position(), 0u);  // the whole batch was withheld
    EXPECT_EQ((*r)->metrics().failures.load(), 1u);
    EXPECT_FALSE((*r)->CatchUp());  // and stays stopped
  }
  auto r = Open(0, 5);  // batches of 5: positions 1-5 go through this time
  ASSERT_TRUE(r);
  EXPECT_FALSE((*r)->CatchUp());
  EXPECT_EQ((*r)->Position(), 5u);
  EXPECT_EQ((*r)->failed_position(), 6u);
}

TEST_F(ViewRunnerTest, ReadingAheadStopsAtAPoisonEventWhereReadingInTurnDoes) {
  PositiveCase(1);
  eventstore::AppendRequest bad;
  bad.stream = domain::PersonStream(PersonId(1));
  bad.events.push_back({"SwabCollected", 1, "\x01\x02", "", At("2020-10-23", 9)});  // position 6
  ASSERT_TRUE(log_.store().Append(bad));
  for (int i = 2; i < 6; ++i) PositiveCase(i);  // batches ready behind the poison one
  auto r = Open(0, 2, true);
  ASSERT_TRUE(r);
  auto reached = (*r)->CatchUp();
  ASSERT_FALSE(reached);
  EXPECT_EQ(reached.error().position, 6u);
  EXPECT_EQ((*r)->Position(), 4u);  // batches 1-2 and 3-4; 5-6 withheld
  EXPECT_NE((*r)->failure().find("does not decode"), std::string::npos) << (*r)->failure();
  EXPECT_FALSE((*r)->CatchUp());
}

TEST_F(ViewRunnerTest, ReadingAheadGivesTheViewsOfReadingInTurn) {
  for (int i = 0; i < 9; ++i) PositiveCase(i);
  auto sequential = Open(0, 4);
  ASSERT_TRUE(sequential);
  ASSERT_TRUE((*sequential)->CatchUp());
  const std::string expected = DumpViews(**sequential, days_);
  sequential->reset();
  for (size_t batch : {1, 4, 7, 1000}) {
    std::filesystem::remove_all(log_.Path("views"));
    auto r = Open(0, batch, true);
    ASSERT_TRUE(r);
    auto reached = (*r)->CatchUp();
    ASSERT_TRUE(reached) << reached.error().message;
    EXPECT_EQ(*reached, 45u);
    EXPECT_EQ(DumpViews(**r, days_), expected) << "batches of " << batch;
  }
  // Stopped half-way (until), reopened: the rest is read ahead from the checkpoint.
  std::filesystem::remove_all(log_.Path("views"));
  {
    auto half = Open(20, 3, true);
    ASSERT_TRUE(half);
    EXPECT_EQ(*(*half)->CatchUp(), 20u);
  }
  auto rest = Open(0, 3, true);
  ASSERT_TRUE(rest);
  EXPECT_EQ((*rest)->Position(), 20u);
  EXPECT_EQ(*(*rest)->CatchUp(), 45u);
  EXPECT_EQ(DumpViews(**rest, days_), expected);
}

TEST_F(ViewRunnerTest, AnEventTheDirectoryCannotExplainStopsTheRunner) {
  PositiveCase(1);
  log_.Person(PersonId(1), {{domain::MeasureEnded{7, D("2020-10-25"), domain::MeasureEndReason::kElapsed},
                             At("2020-10-25", 0)}});
  auto r = Open();
  ASSERT_TRUE(r);
  EXPECT_FALSE((*r)->CatchUp());
  EXPECT_EQ((*r)->failed_position(), 6u);
  EXPECT_NE((*r)->failure().find("measure 7 is not running"), std::string::npos) << (*r)->failure();
}

TEST_F(ViewRunnerTest, AnEntryThatDoesNotLoadRebuildsTheViewsFromTheLog) {
  for (int i = 0; i < 3; ++i) PositiveCase(i);
  std::string before;
  {
    auto r = Open();
    ASSERT_TRUE(r);
    ASSERT_TRUE((*r)->CatchUp());
    before = DumpViews(**r, days_);
  }
  {
    auto db = ViewsDb::Open(log_.Path("views"));
    ASSERT_TRUE(db);
    ViewsDb::Batch b;
    b.Put("municipalities/001272/575", "garbage");
    ASSERT_TRUE((*db)->Write(b, true));
  }
  auto r = Open();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ((*r)->Position(), 0u);
  ASSERT_EQ(*(*r)->CatchUp(), 15u);
  EXPECT_EQ(DumpViews(**r, days_), before);
}

TEST_F(ViewRunnerTest, AnotherSetOfViewsStartsAgainFromTheLog) {
  for (int i = 0; i < 2; ++i) PositiveCase(i);
  {
    auto r = Open();
    ASSERT_TRUE(r);
    ASSERT_TRUE((*r)->CatchUp());
  }
  RunnerOptions o;
  o.path = log_.Path("views");
  o.rules = Rules();
  std::vector<std::unique_ptr<View>> only;
  only.push_back(std::make_unique<RegionView>(Reference()));
  auto r = ViewRunner::Open(log_.store(), std::move(only), o);
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)->Position(), 0u);
  ASSERT_EQ(*(*r)->CatchUp(), 10u);
  auto rows = (*r)->Get<RegionView>("region")->Series("", D("2020-10-22")).value();
  EXPECT_EQ(rows.back().totale_casi, 2);
}

TEST_F(ViewRunnerTest, RebuildRefusesADirectoryInUse) {
  PositiveCase(1);
  auto r = Open();
  ASSERT_TRUE(r);
  RebuildOptions o;
  o.path = log_.Path("views");
  auto again = Rebuild(log_.store(), MakeViews(), o);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, eventstore::StoreErrorCode::kInvalidArgument);
}

TEST_F(ViewRunnerTest, FollowsTheLogAndAnnouncesChangedKeys) {
  auto r = Open(0, 64);
  ASSERT_TRUE(r);
  std::mutex mu;
  std::vector<ViewChange> seen;
  (*r)->OnChanges([&](const std::vector<ViewChange>& changes) {
    std::lock_guard lock(mu);
    seen.insert(seen.end(), changes.begin(), changes.end());
  });
  (*r)->Start();
  PositiveCase(1, "001156");
  ASSERT_TRUE((*r)->WaitForPosition(5, std::chrono::seconds(10)));
  PositiveCase(2, "001272");
  ASSERT_TRUE((*r)->WaitForPosition(10, std::chrono::seconds(10)));
  (*r)->Stop();
  EXPECT_EQ(TorinoCases(**r), 1);
  std::lock_guard lock(mu);
  auto has = [&](const char* view, const char* key) {
    return std::any_of(seen.begin(), seen.end(), [&](const ViewChange& c) { return c.view == view && c.key == key; });
  };
  EXPECT_TRUE(has("municipalities", "001156"));
  EXPECT_TRUE(has("municipalities", "001272"));
  EXPECT_TRUE(has("region", "TO5"));
  EXPECT_TRUE(has("region", "*"));
  EXPECT_TRUE(has("labs", "LAB01"));
  ASSERT_FALSE(seen.empty());
  EXPECT_LE(seen.back().position, 10u);
  EXPECT_GT(seen.back().position, 5u);
}

}  // namespace
}  // namespace caseledger::projections

namespace caseledger::projections {
namespace {

TEST(ViewsDbTest, CatchUpSettingsKeepEveryEntryAndTheSummarySaysWhatWasWritten) {
  const caseledger::testing::TempDir scratch;  // not a fixed path: suites of two checkouts may run at once
  const std::string dir = scratch.Sub("views-catch-up-settings");
  std::filesystem::remove_all(dir);
  ViewsDbOptions o;
  o.block_cache_bytes = 1 << 20;
  o.write_buffer_bytes = 64 << 10;  // small, so that the writes below go through many flushes
  o.catch_up_write_buffer_bytes = 256 << 10;
  auto db = ViewsDb::Open(dir, o);
  ASSERT_TRUE(db) << db.error().message;
  std::map<std::string, std::string> expected;
  auto write = [&](int round) {
    ViewsDb::Batch b;
    for (int k = 0; k < 500; ++k) {
      const std::string key = "people/P" + std::to_string((k * 7919 + round * 31) % 3000);
      const std::string value = std::string(150, char('a' + round % 26)) + std::to_string(round);
      b.Put(key, value);
      expected[key] = value;
    }
    ASSERT_TRUE((*db)->Write(b, false));
  };
  ASSERT_TRUE((*db)->CatchingUp(true));
  for (int round = 0; round < 200; ++round) write(round);
  ASSERT_TRUE((*db)->CatchingUp(false));
  for (int round = 200; round < 220; ++round) write(round);
  ASSERT_TRUE((*db)->Flush());
  for (const auto& [key, value] : expected) {
    auto got = (*db)->Get(key);
    ASSERT_TRUE(got);
    ASSERT_TRUE(*got) << key;
    EXPECT_EQ(**got, value) << key;
  }
  const std::string summary = (*db)->WriteSummary();
  double flushed = -1;
  ASSERT_EQ(std::sscanf(summary.c_str(), "flushed %lf MiB;", &flushed), 1) << summary;
  EXPECT_GT(flushed, 0) << summary;  // ~16 MB put, over memtables of at most 256 KiB
  EXPECT_NE(summary.find(" write stalls"), std::string::npos) << summary;
  db->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace caseledger::projections
