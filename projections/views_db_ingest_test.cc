// ViewsDb's table files (Ingest, WriteAsTable and FlushTables): written while Create's
// creation still runs, and held to be ingested at once (HoldIngestions, IngestHeld), as a
// catch-up from scratch's end does with its views', people's and GP rows' files.
#include "projections/views_db.h"
#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace caseledger::projections {
namespace {

// The entries from..to-1 as "<prefix><n>" = "v<n>", keys ascending (n zero-padded).
ViewsDb::IngestSource Entries(std::string prefix, int from, int to) {
  return [prefix = std::move(prefix), n = from, to](std::string& key, std::string& value) mutable
             -> eventstore::StoreResult<bool> {
    if (n >= to) return false;
    char digits[16];
    std::snprintf(digits, sizeof digits, "%06d", n);
    key = prefix + digits;
    value = "v" + std::to_string(n);
    ++n;
    return true;
  };
}

std::optional<std::string> Value(const ViewsDb& db, const std::string& key) {
  auto got = db.Get(key);
  EXPECT_TRUE(got) << got.error().message;
  return got ? *got : std::nullopt;
}

TEST(ViewsDbIngestTest, TableFilesAreWrittenBeforeTheCreationIsDone) {
  const caseledger::testing::TempDir scratch;
  const std::string dir = scratch.Sub("views-ingest-while-creating");
  std::filesystem::remove_all(dir);
  // The creation waits until the entries were all read (at most 10 s): an Ingest that
  // waited for the creation before writing its table file would read none meanwhile.
  std::promise<void> read_all;
  std::shared_future<void> done = read_all.get_future().share();
  bool read_while_creating = false;
  ViewsDbOptions o;
  o.block_cache_bytes = 1 << 20;
  o.while_creating = [done, &read_while_creating] {
    read_while_creating = done.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  };
  auto db = ViewsDb::Create(dir, o, ViewsDb::Settings::kCatchingUp);
  ASSERT_TRUE(db) << db.error().message;
  const std::string files = scratch.Sub("views-ingest-while-creating-files");
  std::filesystem::create_directories(files);
  auto source = Entries("people/P", 0, 100);
  int n = 0;
  auto counted = [&](std::string& key, std::string& value) -> eventstore::StoreResult<bool> {
    auto more = source(key, value);
    if (more && !*more && ++n == 1) read_all.set_value();
    return more;
  };
  ASSERT_TRUE((*db)->Ingest(files + "/people.sst", counted));
  EXPECT_TRUE(read_while_creating);
  EXPECT_EQ(Value(**db, "people/P000042"), "v42");

  // So is the table file of the batches WriteAsTable kept (FlushTables).
  const std::string dir2 = scratch.Sub("views-flush-tables-while-creating");
  std::filesystem::remove_all(dir2);
  std::promise<void> written;
  std::shared_future<void> written_done = written.get_future().share();
  bool written_while_creating = false;
  o.while_creating = [written_done, &written_while_creating] {
    written_while_creating = written_done.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  };
  auto db2 = ViewsDb::Create(dir2, o, ViewsDb::Settings::kCatchingUp);
  ASSERT_TRUE(db2) << db2.error().message;
  ViewsDb::Batch b;
  b.Put("gps/G1", "one");
  ASSERT_TRUE((*db2)->WriteAsTable(b, files));
  // The table file is written first, then FlushTables waits for the creation to ingest it:
  // its file shows up in `files` while the creation is held.
  auto flushing = std::async(std::launch::async, [&] { return (*db2)->FlushTables(files); });
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < until && !std::filesystem::exists(files + "/table-1.sst")) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (std::filesystem::exists(files + "/table-1.sst")) written.set_value();
  ASSERT_TRUE(flushing.get());
  EXPECT_TRUE(written_while_creating);
  EXPECT_EQ(Value(**db2, "gps/G1"), "one");
}

TEST(ViewsDbIngestTest, HeldTableFilesAreIngestedTogetherAtTheEndOrDropped) {
  const caseledger::testing::TempDir scratch;
  const std::string dir = scratch.Sub("views-held");
  const std::string held = scratch.Sub("views-held-tables");
  const std::string spill = scratch.Sub("views-held-spill");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(held);
  std::filesystem::create_directories(spill);
  ViewsDbOptions o;
  o.block_cache_bytes = 1 << 20;
  auto db = ViewsDb::Open(dir, o, ViewsDb::Settings::kCatchingUp);
  ASSERT_TRUE(db) << db.error().message;
  (*db)->HoldIngestions(held);
  // The people in two files, the GP rows in another, from another thread, and the views'
  // entries (whose keys fall among the rows') by FlushTables: nothing visible yet, and the
  // callers' own directory may go (the spill's does).
  auto people = std::async(std::launch::async, [&] {
    return (*db)->Ingest(std::vector<std::string>{spill + "/lower.sst", spill + "/upper.sst"},
                         std::vector<ViewsDb::IngestSource>{Entries("people/P", 0, 500), Entries("people/P", 500, 1000)});
  });
  ASSERT_TRUE((*db)->Ingest(spill + "/rows.sst", Entries("gps/G1/patients/P", 0, 300)));
  ViewsDb::Batch b;
  b.Put("gps/G1/days", "seven");
  b.Put("gps/G2/days", "eight");
  ASSERT_TRUE((*db)->WriteAsTable(b, held));
  ASSERT_TRUE((*db)->FlushTables(held));
  ASSERT_TRUE(people.get());
  std::filesystem::remove_all(spill);
  EXPECT_EQ(Value(**db, "people/P000001"), std::nullopt);
  EXPECT_EQ(Value(**db, "gps/G1/days"), std::nullopt);
  ASSERT_TRUE((*db)->IngestHeld());
  EXPECT_EQ(Value(**db, "people/P000001"), "v1");
  EXPECT_EQ(Value(**db, "people/P000999"), "v999");
  EXPECT_EQ(Value(**db, "gps/G1/patients/P000299"), "v299");
  EXPECT_EQ(Value(**db, "gps/G1/days"), "seven");
  EXPECT_EQ(Value(**db, "gps/G2/days"), "eight");
  EXPECT_TRUE(std::filesystem::is_empty(held));  // the files are the database's now

  // Held and then dropped (a failure elsewhere at the end): nothing ingested, no file left.
  std::filesystem::create_directories(spill);
  (*db)->HoldIngestions(held);
  ASSERT_TRUE((*db)->Ingest(spill + "/late.sst", Entries("people/Q", 0, 10)));
  EXPECT_FALSE(std::filesystem::is_empty(held));
  ASSERT_TRUE((*db)->IngestHeld(/*ingest=*/false));
  EXPECT_TRUE(std::filesystem::is_empty(held));
  EXPECT_EQ(Value(**db, "people/Q000001"), std::nullopt);
  // Not holding any more: ingested at once again.
  ASSERT_TRUE((*db)->Ingest(spill + "/now.sst", Entries("people/R", 0, 10)));
  EXPECT_EQ(Value(**db, "people/R000001"), "v1");
}

}  // namespace
}  // namespace caseledger::projections
