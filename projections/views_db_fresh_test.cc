// A views database created for a catch-up from scratch (a rebuild, a first start): opened
// in the catch-up's settings, its meta written with its first checkpoint, and a crash
// before that checkpoint leaving a database the next open empties and rebuilds.
#include "projections/runner_test_support.h"
#include "projections/views_db.h"
#include "projections/views_layout.h"
#include "projections/views_test_support.h"
#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>

namespace caseledger::projections {
namespace {

using namespace caseledger::projections::testing;
using domain::Outcome;
using domain::SwabKind;

// The names of the OPTIONS files RocksDB keeps in `dir` (a new one at every change of
// settings).
std::set<std::string> OptionsFiles(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& f : std::filesystem::directory_iterator(dir)) {
    const std::string name = f.path().filename().string();
    if (name.starts_with("OPTIONS-")) names.insert(name);
  }
  return names;
}

// The value of `option` ("name=value" on a line of its own) in the newest OPTIONS file.
std::string NewestOption(const std::string& dir, const std::string& option) {
  const std::set<std::string> files = OptionsFiles(dir);
  if (files.empty()) return "";
  std::string newest = *files.begin();
  for (const std::string& f : files) {
    if (std::stoul(f.substr(8)) > std::stoul(newest.substr(8))) newest = f;
  }
  const std::string text = ReadFile(dir + "/" + newest);
  const size_t at = text.find(" " + option + "=");
  if (at == std::string::npos) return "";
  const size_t from = at + option.size() + 2;
  return text.substr(from, text.find('\n', from) - from);
}

TEST(ViewsDbTest, OpenedInCatchUpSettingsWritesNoOptionsFileUntilItLeavesThem) {
  const caseledger::testing::TempDir scratch;  // not a fixed path: suites of two checkouts may run at once
  const std::string dir = scratch.Sub("views-opened-catching-up");
  std::filesystem::remove_all(dir);
  ViewsDbOptions o;
  o.block_cache_bytes = 1 << 20;
  o.write_buffer_bytes = 64 << 10;
  o.catch_up_write_buffer_bytes = 256 << 10;
  {
    auto db = ViewsDb::Open(dir, o, ViewsDb::Settings::kCatchingUp);
    ASSERT_TRUE(db) << db.error().message;
    EXPECT_TRUE((*db)->catching_up());
    EXPECT_EQ(NewestOption(dir, "level0_file_num_compaction_trigger"), "16");
    EXPECT_EQ(NewestOption(dir, "write_buffer_size"), std::to_string(256 << 10));
    const std::set<std::string> opened = OptionsFiles(dir);
    ASSERT_TRUE((*db)->CatchingUp(true));
    EXPECT_EQ(OptionsFiles(dir), opened);  // nothing to change: nothing written
    ViewsDb::Batch b;
    b.Put("people/P1", "one");
    ASSERT_TRUE((*db)->Write(b, false));
    ASSERT_TRUE((*db)->CatchingUp(false));
    EXPECT_FALSE((*db)->catching_up());
    EXPECT_NE(OptionsFiles(dir), opened);
    EXPECT_EQ(NewestOption(dir, "level0_file_num_compaction_trigger"), "4");
    EXPECT_EQ(NewestOption(dir, "write_buffer_size"), std::to_string(64 << 10));
  }
  auto db = ViewsDb::Open(dir, o);  // reopened in the following settings, its entries whole
  ASSERT_TRUE(db) << db.error().message;
  EXPECT_FALSE((*db)->catching_up());
  auto got = (*db)->Get("people/P1");
  ASSERT_TRUE(got);
  ASSERT_TRUE(*got);
  EXPECT_EQ(**got, "one");
  db->reset();
  std::filesystem::remove_all(dir);
}

TEST(ViewsDbTest, CreatedInTheBackgroundItsCallsWaitForTheCreationAndWhatWasPinnedBeforeHoldsNothing) {
  const caseledger::testing::TempDir scratch;  // not a fixed path: suites of two checkouts may run at once
  const std::string dir = scratch.Sub("views-created-in-background");
  std::filesystem::remove_all(dir);
  ViewsDbOptions o;
  o.block_cache_bytes = 1 << 20;
  {
    auto db = ViewsDb::Create(dir, o, ViewsDb::Settings::kCatchingUp);
    ASSERT_TRUE(db) << db.error().message;
    // Pinned at once (the creation most likely still running): as of it, nothing is found,
    // whatever is written after.
    const auto before = (*db)->Pin();
    ViewsDb::Batch b;
    b.Put("gps/G1", "one");
    ASSERT_TRUE((*db)->Write(b, false));
    auto pinned = (*db)->Get("gps/G1", before.get());
    ASSERT_TRUE(pinned) << pinned.error().message;
    EXPECT_FALSE(*pinned);
    size_t seen = 0;
    ASSERT_TRUE((*db)->Scan("gps/", before.get(), [&](std::string_view, std::string_view) { ++seen; }));
    EXPECT_EQ(seen, 0u);
    auto now = (*db)->Get("gps/G1");
    ASSERT_TRUE(now);
    ASSERT_TRUE(*now);
    EXPECT_EQ(**now, "one");
    EXPECT_TRUE((*db)->catching_up());
    EXPECT_EQ(NewestOption(dir, "level0_file_num_compaction_trigger"), "16");
    ASSERT_TRUE((*db)->Flush());
  }
  {
    // A directory that holds a database already is opened as Open does: its entries are
    // there, pinned at once.
    auto db = ViewsDb::Create(dir, o, ViewsDb::Settings::kCatchingUp);
    ASSERT_TRUE(db) << db.error().message;
    auto got = (*db)->Get("gps/G1", (*db)->Pin().get());
    ASSERT_TRUE(got);
    ASSERT_TRUE(*got);
    EXPECT_EQ(**got, "one");
  }
  // A creation that fails: returned by the first call that needs the database, and by every
  // one after; the pinned snapshot holds nothing, the memory is none.
  const std::string file = dir + "/not-a-directory";
  std::ofstream(file) << "x";
  auto failing = ViewsDb::Create(file + "/views", o, ViewsDb::Settings::kCatchingUp);
  ASSERT_TRUE(failing) << failing.error().message;
  ViewsDb::Batch b;
  b.Put("gps/G1", "one");
  auto written = (*failing)->Write(b, false);
  ASSERT_FALSE(written);
  EXPECT_NE(written.error().message.find("open"), std::string::npos) << written.error().message;
  EXPECT_FALSE((*failing)->Get("gps/G1"));
  auto pinned = (*failing)->Get("gps/G1", (*failing)->Pin().get());
  ASSERT_TRUE(pinned);
  EXPECT_FALSE(*pinned);
  EXPECT_EQ((*failing)->Memory().total(), 0u);
  failing->reset();
  std::filesystem::remove_all(dir);
}

class FreshViewsTest : public ::testing::Test {
 protected:
  void PositiveCase(int n) { log_.PositiveCase(n); }
  RunnerOptions Options(const std::string& name) {
    RunnerOptions o;
    o.path = log_.Path(name);
    o.rules = Rules();
    o.max_batch = 4;
    o.read_ahead = true;  // a catch-up from scratch, as a rebuild's and a first start's
    o.partitions = 2;
    o.threads = 2;
    return o;
  }
  RebuildOptions RebuildOptionsFor(const std::string& name) {
    RebuildOptions o;
    o.path = log_.Path(name);
    o.rules = Rules();
    return o;
  }
  // The database's value of `key` as a plain ViewsDb opening reads it ("-": none).
  std::string Stored(const std::string& name, std::string_view key) {
    auto db = ViewsDb::Open(log_.Path(name));
    if (!db) return "cannot open: " + db.error().message;
    auto got = (*db)->Get(key);
    if (!got) return "cannot read: " + got.error().message;
    return *got ? **got : "-";
  }

  size_t Entries(const std::string& name) {
    auto db = ViewsDb::Open(log_.Path(name));
    if (!db) ADD_FAILURE() << db.error().message;
    if (!db) return 0;
    size_t n = 0;
    auto scan = (*db)->ForEach([&](std::string_view, std::string_view) { return ++n > 0; });
    return scan ? n : 0;
  }

  TestLog log_;
  const std::vector<domain::Date> days_ = {D("2020-10-21"), D("2020-10-22"), D("2020-11-30")};
};

TEST_F(FreshViewsTest, ItsMetaComesWithItsCheckpointAndACrashBeforeLeavesADatabaseTheNextOpenEmpties) {
  for (int i = 0; i < 40; ++i) PositiveCase(i);  // 200 events, batches of 4
  auto reference = Rebuild(log_.store(), MakeViews(), RebuildOptionsFor("reference"));
  ASSERT_TRUE(reference) << reference.error().message;
  const std::string expected = DumpViews(**reference, days_);
  reference->reset();
  EXPECT_EQ(Stored("reference", layout::kFormatKey), layout::kFormat);
  EXPECT_EQ(Stored("reference", layout::kCheckpointKey), "200");
  {
    // Opened, then gone before any catch-up (a crash right after the open).
    auto r = ViewRunner::Open(log_.store(), MakeViews(), Options("views"));
    ASSERT_TRUE(r) << r.error().message;
  }
  EXPECT_EQ(Stored("views", layout::kFormatKey), "-");
  EXPECT_EQ(Stored("views", layout::kCheckpointKey), "-");
  {
    // Writing every 8 events, their entries in table files ingested once they pass 1 KiB
    // (a memtable's size): some reach the database; then a view fails at its 150th event.
    RunnerOptions o = Options("crashed");
    o.catch_up_write_every = 8;
    o.db.write_buffer_bytes = 1 << 10;
    auto views = MakeViews();
    views[1] = std::make_unique<CrashingView>(std::move(views[1]), 150);
    auto r = ViewRunner::Open(log_.store(), std::move(views), o);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_FALSE((*r)->CatchUp());
  }
  EXPECT_GT(Entries("crashed"), 0u);
  EXPECT_EQ(Stored("crashed", layout::kFormatKey), "-");
  EXPECT_EQ(Stored("crashed", layout::kCheckpointKey), "-");
  for (const char* name : {"views", "crashed"}) {
    SCOPED_TRACE(name);
    {
      // Reopened (not created now): emptied and caught up from position 1.
      auto r = ViewRunner::Open(log_.store(), MakeViews(), Options(name));
      ASSERT_TRUE(r) << r.error().message;
      EXPECT_EQ((*r)->Position(), 0u);
      ASSERT_EQ(*(*r)->CatchUp(), 200u);
      EXPECT_EQ(DumpViews(**r, days_), expected);
    }
    EXPECT_EQ(Stored(name, layout::kFormatKey), layout::kFormat);
    EXPECT_EQ(Stored(name, layout::kCheckpointKey), "200");
  }
}

TEST_F(FreshViewsTest, ACrashBeforeTheEndsCheckpointLeavesItsIngestedTablesToAnOpenThatEmptiesThem) {
  for (int i = 0; i < 40; ++i) PositiveCase(i);  // 200 events, batches of 4
  auto reference = Rebuild(log_.store(), MakeViews(), RebuildOptionsFor("reference-end"));
  ASSERT_TRUE(reference) << reference.error().message;
  const std::string expected = DumpViews(**reference, days_);
  reference->reset();
  {
    // The end ingests all its table files at once (views, people, GP rows), then writes the
    // checkpoint: the database as it is on disk when that write begins (the first Write of
    // a catch-up from scratch) is copied, as a crash there would leave it.
    RunnerOptions o = Options("ends");
    const std::string copy = log_.Path("ends-crashed");
    bool copied = false;
    o.db.before_write = [&] {
      if (copied) return;
      copied = true;
      std::filesystem::copy(o.path, copy, std::filesystem::copy_options::recursive);
    };
    auto r = ViewRunner::Open(log_.store(), MakeViews(), o);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(*(*r)->CatchUp(), 200u);
    ASSERT_TRUE(copied);
    EXPECT_FALSE(std::filesystem::exists(o.path + ".tables"));  // the held files went in
  }
  EXPECT_GT(Entries("ends-crashed"), 0u);  // the people and the views' entries, ingested
  EXPECT_EQ(Stored("ends-crashed", layout::kCheckpointKey), "-");
  {
    auto r = ViewRunner::Open(log_.store(), MakeViews(), Options("ends-crashed"));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ((*r)->Position(), 0u);
    ASSERT_EQ(*(*r)->CatchUp(), 200u);
    EXPECT_EQ(DumpViews(**r, days_), expected);
  }
  EXPECT_EQ(Stored("ends-crashed", layout::kCheckpointKey), "200");
}

TEST_F(FreshViewsTest, ACatchUpFromScratchLeavesItsSettingsAtTheFirstBatchAppliedAloneAndReopensAsWritten) {
  for (int i = 0; i < 10; ++i) PositiveCase(i);
  const std::string path = log_.Path("views");
  auto rebuilt = ViewRunner::Open(log_.store(), MakeViews(), Options("views"));  // as Rebuild, without `until`
  ASSERT_TRUE(rebuilt) << rebuilt.error().message;
  ASSERT_EQ(*(*rebuilt)->CatchUp(), 50u);
  // Opened in the catch-up's settings, and left in them at the catch-up's end.
  EXPECT_EQ(NewestOption(path, "level0_file_num_compaction_trigger"), "16");
  const std::string p = PersonId(10);
  log_.Person(p, {{domain::PersonRegistered{p, domain::Sex::kFemale, "001272", {}}, At("2020-10-25", 8)}});
  ASSERT_EQ(*(*rebuilt)->CatchUp(), 51u);  // one event: applied alone, in the following settings
  EXPECT_EQ(NewestOption(path, "level0_file_num_compaction_trigger"), "4");
  rebuilt->reset();
  auto reference = Rebuild(log_.store(), MakeViews(), RebuildOptionsFor("reference"));
  ASSERT_TRUE(reference) << reference.error().message;
  RunnerOptions o = Options("views");
  auto reopened = ViewRunner::Open(log_.store(), MakeViews(), o);
  ASSERT_TRUE(reopened) << reopened.error().message;
  EXPECT_EQ((*reopened)->Position(), 51u);  // as written: nothing to apply again
  EXPECT_EQ(DumpViews(**reopened, days_), DumpViews(**reference, days_));
}

// The table files of a catch-up from scratch (WriteAsTable) are compacted once, after
// FlushTables, not every 16 of them into a level 1 that held every key written so far.
TEST(ViewsDbTest, TableFilesOfACatchUpAreCompactedOnlyAfterItsEnd) {
  const caseledger::testing::TempDir scratch;  // not a fixed path: suites of two checkouts may run at once
  const std::string dir = scratch.Sub("views-tables-held");
  std::filesystem::remove_all(dir);
  auto tables = [&dir] {
    size_t n = 0;
    for (const auto& f : std::filesystem::directory_iterator(dir)) n += f.path().extension() == ".sst";
    return n;
  };
  ViewsDbOptions o;
  o.block_cache_bytes = 1 << 20;
  o.write_buffer_bytes = 16 << 10;  // a table file per batch below
  const std::string spill = dir + ".tables";
  std::filesystem::create_directories(spill);
  {
    auto db = ViewsDb::Create(dir, o, ViewsDb::Settings::kCatchingUp);
    ASSERT_TRUE(db) << db.error().message;
    // A short catch-up's one table file: the settings are not touched (no OPTIONS file).
    ViewsDb::Batch first;
    first.Put("gps/000", "v0");
    ASSERT_TRUE((*db)->WriteAsTable(first, spill));
    ASSERT_TRUE((*db)->FlushTables(spill));
    const std::set<std::string> opened = OptionsFiles(dir);
    EXPECT_EQ(NewestOption(dir, "disable_auto_compactions"), "false");
    // 80 batches over the same 1,000 keys, each a table file: more than level 0's stop
    // trigger while catching up (64), none compacted.
    constexpr int kBatches = 80, kKeys = 1000;
    for (int b = 0; b < kBatches; ++b) {
      ViewsDb::Batch batch;
      for (int k = 0; k < kKeys; ++k) batch.Put("gps/" + std::to_string(1000 + k), std::string(20, 'a') + std::to_string(b));
      ASSERT_TRUE((*db)->WriteAsTable(batch, spill));
      if (b == 0) {
        EXPECT_NE(OptionsFiles(dir), opened);
        EXPECT_EQ(NewestOption(dir, "disable_auto_compactions"), "true");
      }
    }
    EXPECT_EQ(tables(), size_t{kBatches + 1});
    // A write is not stalled by level 0's files while they are compacted: the stall trigger
    // counts above the files level 0 holds when it is set. Once FlushTables allows their
    // compaction, how many are left then depends on how far it has got (under load it
    // sometimes finished before CatchingUp(false) set the trigger again, which then rightly
    // went back to RocksDB's 20), so the trigger is checked against level 0 read after it
    // was set: nothing is flushed in between, so level 0 can only have lost files since.
    ASSERT_TRUE((*db)->FlushTables(spill));
    EXPECT_EQ(NewestOption(dir, "disable_auto_compactions"), "false");
    const int at_flush = std::stoi(NewestOption(dir, "level0_slowdown_writes_trigger"));
    EXPECT_GT(at_flush, static_cast<int>((*db)->Level0Files())) << "the trigger set by FlushTables";
    ViewsDb::Batch checkpoint;
    checkpoint.Put("checkpoint", "1");
    ASSERT_TRUE((*db)->Write(checkpoint, true));
    ASSERT_TRUE((*db)->CatchingUp(false));  // nor when the database follows the log
    const int following = std::stoi(NewestOption(dir, "level0_slowdown_writes_trigger"));
    EXPECT_GT(following, static_cast<int>((*db)->Level0Files())) << "the trigger set by CatchingUp(false)";
    ASSERT_TRUE((*db)->Flush());
    for (int wait = 0; wait < 200 && tables() > 8; ++wait) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_LE(tables(), 8u);  // compacted once released
    for (int k : {0, 499, 999}) {
      auto got = (*db)->Get("gps/" + std::to_string(1000 + k));
      ASSERT_TRUE(got);
      ASSERT_TRUE(*got);
      EXPECT_EQ(**got, std::string(20, 'a') + std::to_string(kBatches - 1));
    }
  }
  std::filesystem::remove_all(dir);
  std::filesystem::remove_all(spill);
}

}  // namespace
}  // namespace caseledger::projections
