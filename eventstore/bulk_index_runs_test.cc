// The bulk import's stream index runs (bulk_index_runs.h): runs written to their files and
// merged by ranges of streams, with the newest run in memory, give every index entry once
// and each stream's newest key seed, in key order, as a merge by key of the same entries.
#include "eventstore/bulk_index_runs.h"
#include "eventstore/record_format.h"

#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <random>

namespace caseledger::eventstore::bulk_import_internal {
namespace {

using caseledger::testing::TempDir;

TEST(BulkIndexRunsTest, RunsMergedByRangesGiveEveryEntryOnceWithTheNewestKeySeed) {
  TempDir dir;
  IndexRunFiles files(dir.Sub("index-run"));
  std::mt19937_64 random(7);
  // Names that are prefixes of others ("p-1", "p-10") and of every length: more streams
  // than a run's marks are apart, so that a range starts from a mark within a file.
  std::deque<std::string> names;
  for (int i = 0; i < 3000; ++i) names.push_back("p-" + std::to_string(i) + (i % 7 == 0 ? "x" : ""));
  std::vector<uint64_t> versions(names.size());
  std::map<std::string, std::string> expected;  // what the merge must give, in key order
  uint64_t position = 1;
  std::vector<IndexRun> runs(5);
  for (size_t r = 0; r < runs.size(); ++r) {
    IndexRun& run = runs[r];
    run.first = position;
    std::vector<int64_t> slot_of(names.size(), -1);
    for (int e = 0; e < 6000; ++e, ++position) {
      const size_t s = random() % (r == 2 ? 40 : names.size());  // run 2: a few streams, many events each
      if (slot_of[s] < 0) {
        slot_of[s] = static_cast<int64_t>(run.streams.size());
        run.streams.push_back({&names[s], versions[s] + 1, static_cast<uint32_t>(slot_of[s])});
      }
      run.slots.push_back(static_cast<uint32_t>(slot_of[s]));
      expected[format::StreamKey(names[s], ++versions[s])] = format::EncodePositionRef(position);
      if (random() % 50 == 0) {  // a key seed, or an erasure's tombstone replacing an older one
        const std::string seed = random() % 3 == 0 ? "" : "seed-" + std::to_string(r) + "-" + std::to_string(s);
        run.seeds[static_cast<uint32_t>(slot_of[s])] = seed;
        expected[format::KeySeedKey(names[s])] = seed;
      }
    }
    run.Sort();
    if (r + 1 < runs.size()) {  // the last stays in memory, as at Commit
      auto written = files.WriteRun(files.NextPath(), run);
      ASSERT_TRUE(written) << written.error().message;
      files.Add(std::move(*written));
    }
  }
  ASSERT_EQ(files.runs(), 4u);
  const std::vector<std::pair<std::string, std::string>> whole(expected.begin(), expected.end());
  for (const std::vector<std::string>& cuts :
       {std::vector<std::string>{}, {format::StreamPrefix("p-1")}, {format::StreamPrefix("p-10"), format::StreamPrefix("p-2")},
        {format::StreamPrefix("a"), format::StreamPrefix("p-1500"), format::StreamPrefix("p-7x"), format::StreamPrefix("z")}}) {
    std::vector<std::pair<std::string, std::string>> merged;
    for (size_t part = 0; part <= cuts.size(); ++part) {
      auto done = files.MergeRange(part == 0 ? std::string_view() : std::string_view(cuts[part - 1]),
                                   part == cuts.size() ? std::string_view() : std::string_view(cuts[part]), &runs.back(),
                                   [&](std::string_view k, std::string_view v) {
                                     merged.emplace_back(std::string(k), std::string(v));
                                     return rocksdb::Status::OK();
                                   });
      ASSERT_TRUE(done) << done.error().message;
    }
    EXPECT_EQ(merged.size(), whole.size()) << cuts.size() << " cuts";
    EXPECT_TRUE(merged == whole) << cuts.size() << " cuts";
  }
  // Without the run in memory: the files' entries alone.
  std::vector<std::pair<std::string, std::string>> from_files;
  ASSERT_TRUE(files.MergeRange({}, {}, nullptr, [&](std::string_view k, std::string_view v) {
    from_files.emplace_back(std::string(k), std::string(v));
    return rocksdb::Status::OK();
  }));
  EXPECT_LT(from_files.size(), whole.size());
  EXPECT_TRUE(std::is_sorted(from_files.begin(), from_files.end()));
}

}  // namespace
}  // namespace caseledger::eventstore::bulk_import_internal
