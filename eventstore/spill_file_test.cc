// The bounded record store of the loaders (spill_file.h): records written out and read back
// are the records, whether Trim writes them on the caller's thread or hands them to its
// writer thread (a Get of a record still in the writer's batch waits for it).
#include "eventstore/spill_file.h"

#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>

#include <random>

namespace caseledger::eventstore {
namespace {

using caseledger::testing::TempDir;

SpilledRecords<std::string> Strings(const std::string& path, size_t in_memory, bool background) {
  return SpilledRecords<std::string>(
      path, in_memory, [](const std::string& s) { return s; },
      [](std::string_view bytes, const std::string&) -> StoreResult<std::unique_ptr<std::string>> {
        return std::make_unique<std::string>(bytes);
      },
      background);
}

void ExpectRecordsSurviveSpilling(bool background) {
  TempDir dir;
  auto records = Strings(dir.Sub("spill"), 7, background);
  ASSERT_TRUE(records.Open());
  std::vector<std::string> expected;
  std::mt19937_64 random(background ? 3 : 5);
  for (int step = 0; step < 4000; ++step) {
    if (expected.size() < 20 || random() % 3 == 0) {
      // Sizes across several size classes, so that rewritten records move.
      expected.push_back(std::string(1 + random() % 300, static_cast<char>('a' + expected.size() % 26)));
      records.Add(std::make_unique<std::string>(expected.back()));
    } else {
      const size_t i = random() % expected.size();
      auto got = records.Get(i);
      ASSERT_TRUE(got) << got.error().message;
      ASSERT_EQ(**got, expected[i]) << "record " << i << " at step " << step;
      if (random() % 2) {  // changed: written again at the next eviction
        expected[i] = std::string(1 + random() % 300, static_cast<char>('A' + step % 26));
        **got = expected[i];
      }
    }
    if (step % 5 == 0) {
      ASSERT_TRUE(records.Trim());
    }
  }
  EXPECT_GT(records.stats().written, 1000u);
  EXPECT_GT(records.stats().read, 500u);
  std::vector<std::string> seen;
  ASSERT_TRUE(records.ForEach([&](const std::string& s) { seen.push_back(s); }));
  EXPECT_EQ(seen, expected);
}

TEST(SpilledRecordsTest, RecordsReadBackAreThoseWrittenOut) { ExpectRecordsSurviveSpilling(false); }

TEST(SpilledRecordsTest, RecordsWrittenByTheWriterThreadReadBackTheSame) { ExpectRecordsSurviveSpilling(true); }

}  // namespace
}  // namespace caseledger::eventstore
