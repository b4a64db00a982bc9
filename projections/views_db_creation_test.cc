// A views database created for a catch-up from scratch without RocksDB's syncs
// (views_db_creation.h): whatever a crash or a power loss leaves of it before its first
// checkpoint, the next open removes it and rebuilds the same views; once that checkpoint is
// written, it is complete and reopens where it stands.
#include "projections/views_db_creation.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "projections/runner_test_support.h"
#include "projections/views_db.h"
#include "projections/views_layout.h"
#include "projections/views_test_support.h"

namespace caseledger::projections {
namespace {

using namespace caseledger::projections::testing;

class ViewsDbCreationTest : public ::testing::Test {
 protected:
  RunnerOptions Options(const std::string& name) {
    RunnerOptions o;
    o.path = log_.Path(name);
    o.rules = Rules();
    o.max_batch = 4;
    o.read_ahead = true;  // a catch-up from scratch: the database is created (ViewsDb::Create)
    o.partitions = 2;
    o.threads = 2;
    return o;
  }
  std::string Stored(const std::string& path, std::string_view key) {
    auto db = ViewsDb::Open(path);
    if (!db) return "cannot open: " + db.error().message;
    auto got = (*db)->Get(key);
    if (!got) return "cannot read: " + got.error().message;
    return *got ? **got : "-";
  }
  static bool Marked(const std::string& path) {
    return std::filesystem::exists(path + "/" + kCreatingMarker);
  }
  // What a power loss may leave of files never synced: their names, none of their bytes.
  // The marker is the one file (empty) whose name was synced.
  static void LoseUnsynced(const std::string& path) {
    for (const auto& f : std::filesystem::directory_iterator(path)) {
      if (f.is_regular_file() && f.path().filename() != kCreatingMarker)
        std::filesystem::resize_file(f.path(), 0);
    }
  }

  TestLog log_;
  const std::vector<domain::Date> days_ = {D("2020-10-21"), D("2020-10-22"), D("2020-11-30")};
};

TEST_F(ViewsDbCreationTest,
       ACopyTakenAtEachStepOfTheCreationRecoversToTheViewsOfAnUninterruptedRun) {
  for (int i = 0; i < 40; ++i) log_.PositiveCase(i);  // 200 events, batches of 4
  RunnerOptions o = Options("views");
  // The directory copied after each step of the creation (each file written, renamed or
  // sync skipped), and as the first checkpoint's write begins (the end: the views' and the
  // people's table files ingested, not yet completed).
  std::vector<std::string> copies, steps;
  std::mutex mu;  // RocksDB's own threads may take a step beside the creation's
  auto copy = [&](const std::string& what) {
    std::lock_guard lock(mu);
    const std::string to = log_.Path("step-" + std::to_string(copies.size()));
    std::filesystem::copy(o.path, to, std::filesystem::copy_options::recursive);
    copies.push_back(to);
    steps.push_back(what);
  };
  o.db.creation_step = copy;
  bool at_checkpoint = false;
  o.db.before_write = [&] {
    if (at_checkpoint) return;
    at_checkpoint = true;
    copy("the checkpoint's write");
  };
  std::string expected;
  {
    auto r = ViewRunner::Open(log_.store(), MakeViews(), o);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(*(*r)->CatchUp(), 200u);
    expected = DumpViews(**r, days_);
  }  // the completion joined
  // Uninterrupted: complete, and reopened where it stands.
  EXPECT_FALSE(Marked(o.path));
  {
    RunnerOptions again = Options("views");
    auto r = ViewRunner::Open(log_.store(), MakeViews(), again);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ((*r)->Position(), 200u);
    EXPECT_EQ(DumpViews(**r, days_), expected);
  }
  // The creation's files were written with their syncs skipped (CURRENT among them).
  ASSERT_GE(copies.size(), 5u);
  bool current = false, skipped = false;
  for (const std::string& s : steps) {
    current = current || s.find("CURRENT") != std::string::npos;
    skipped = skipped || s.starts_with("sync");
  }
  EXPECT_TRUE(current);
  EXPECT_TRUE(skipped);
  for (size_t i = 0; i < copies.size(); ++i) {
    for (bool power_loss : {true, false}) {  // the copy as taken, last: it is reopened in place
      SCOPED_TRACE("after step " + std::to_string(i) + " (" + steps[i] + ")" +
                   (power_loss ? ", power lost" : ""));
      const std::string path = copies[i] + (power_loss ? "-lost" : "");
      if (power_loss) {
        std::filesystem::copy(copies[i], path, std::filesystem::copy_options::recursive);
        LoseUnsynced(path);
      }
      EXPECT_TRUE(Marked(path));
      RunnerOptions reopened = Options("views");
      reopened.path = path;
      {
        auto r = ViewRunner::Open(log_.store(), MakeViews(), reopened);
        ASSERT_TRUE(r) << r.error().message;
        EXPECT_EQ((*r)->Position(), 0u);
        ASSERT_EQ(*(*r)->CatchUp(), 200u);
        EXPECT_EQ(DumpViews(**r, days_), expected);
      }
      EXPECT_FALSE(Marked(path));
      EXPECT_EQ(Stored(path, layout::kCheckpointKey), "200");
    }
  }
}

// A database that opens but never got its checkpoint is emptied by ViewsRecovery, as before;
// one that does not open at all (its creation's files lost) would have stopped the start:
// the marker is what lets the open tell the two apart.
TEST_F(ViewsDbCreationTest, OnlyADatabaseMarkedAsCreatingIsRemoved) {
  const std::string kept = log_.Path("kept");
  {
    auto db = ViewsDb::Open(kept);
    ASSERT_TRUE(db) << db.error().message;
  }
  EXPECT_FALSE(ViewsDb::RemoveIfIncomplete(kept));
  EXPECT_TRUE(std::filesystem::exists(kept + "/CURRENT"));
  const std::string created = log_.Path("created");
  {
    auto db = ViewsDb::Create(created, {}, ViewsDb::Settings::kCatchingUp);
    ASSERT_TRUE(db) << db.error().message;
    ASSERT_TRUE((*db)->Flush());  // waits for the creation
    EXPECT_TRUE(Marked(created));
    ViewsDb::Batch plain;
    plain.Put("checkpoint", "1");
    ASSERT_TRUE((*db)->Write(plain, false));  // not the completing one
  }
  EXPECT_TRUE(Marked(created));
  {
    auto db = ViewsDb::Create(created, {}, ViewsDb::Settings::kCatchingUp);  // not empty: opened
    ASSERT_TRUE(db) << db.error().message;
    ViewsDb::Batch completing;
    completing.Put("checkpoint", "2");
    completing.Completes();
    ASSERT_TRUE((*db)->Write(completing, false));
  }
  // Opened, not created: nothing of its creation to complete, and the marker stays.
  EXPECT_TRUE(Marked(created));
  EXPECT_TRUE(ViewsDb::RemoveIfIncomplete(created));
  EXPECT_FALSE(std::filesystem::exists(created));
  {
    auto db = ViewsDb::Create(created, {}, ViewsDb::Settings::kCatchingUp);
    ASSERT_TRUE(db) << db.error().message;
    ViewsDb::Batch completing;
    completing.Put("checkpoint", "1");
    completing.Completes();
    ASSERT_TRUE((*db)->Write(completing, false));
  }
  EXPECT_FALSE(Marked(created));
  EXPECT_FALSE(ViewsDb::RemoveIfIncomplete(created));
  EXPECT_EQ(Stored(created, "checkpoint"), "1");
}

}  // namespace
}  // namespace caseledger::projections
