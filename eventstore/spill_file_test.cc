// The bounded record store of the loaders (spill_file.h): records written out and read back
// are the records, whether Trim writes them on the caller's thread or hands them to its
// writer thread (a Get of a record still in the writer's batch waits for it), across the
// log's segments and after their records moved; the file stays within about twice the live
// bytes however often records are written again.
#include "eventstore/spill_file.h"

#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>

#include <atomic>
#include <random>

namespace caseledger::eventstore {
namespace {

using caseledger::testing::TempDir;

// Segments of 1 KiB: a few records each, so that records cross into new segments, segments
// empty and are taken again, and sparse ones have their records moved.
constexpr uint64_t kSmallSegment = 1024;

SpilledRecords<std::string> Strings(const std::string& path, size_t in_memory, bool background) {
  return SpilledRecords<std::string>(
      path, in_memory, [](const std::string& s, std::string& out) { out += s; },
      [](std::string_view bytes, const std::string&) -> StoreResult<std::unique_ptr<std::string>> {
        return std::make_unique<std::string>(bytes);
      },
      background, kSmallSegment);
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
      // Sizes from 1 to 300 bytes, so that segments fill unevenly.
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
  EXPECT_GT(records.stats().moved, 100u);
  std::vector<std::string> seen;
  ASSERT_TRUE(records.ForEach([&](const std::string& s) { seen.push_back(s); }));
  EXPECT_EQ(seen, expected);
}

TEST(SpilledRecordsTest, RecordsReadBackAreThoseWrittenOut) { ExpectRecordsSurviveSpilling(false); }

TEST(SpilledRecordsTest, RecordsWrittenByTheWriterThreadReadBackTheSame) { ExpectRecordsSurviveSpilling(true); }

// 200 records of up to 300 bytes (at most 60,000 live bytes) written out ~6,000 times (8,000 reads), nine
// in ten of them one of 20 hot records: a segment keeps the one cold record written with its
// hot ones for ~2,000 steps after they left, so a log whose segments were only taken again
// once empty would reach ~400 KB; the sparse segments' records moved keep it near twice the
// live bytes.
void ExpectFileWithinTwiceTheLiveBytes(bool background) {
  TempDir dir;
  auto records = Strings(dir.Sub("spill"), 5, background);
  ASSERT_TRUE(records.Open());
  std::vector<std::string> expected;
  std::mt19937_64 random(background ? 7 : 11);
  for (int i = 0; i < 200; ++i) {
    expected.push_back(std::string(100 + random() % 201, static_cast<char>('a' + i % 26)));
    records.Add(std::make_unique<std::string>(expected.back()));
  }
  ASSERT_TRUE(records.Trim());
  uint64_t largest = 0;
  for (int step = 0; step < 8000; ++step) {
    const size_t i = random() % 10 == 0 ? random() % expected.size() : random() % 20;
    auto got = records.Get(i);
    ASSERT_TRUE(got) << got.error().message;
    ASSERT_EQ(**got, expected[i]) << "record " << i << " at step " << step;
    expected[i] = std::string(100 + random() % 201, static_cast<char>('A' + step % 26));
    **got = expected[i];
    ASSERT_TRUE(records.Trim());
    largest = std::max(largest, records.stats().file_bytes);
  }
  EXPECT_GT(records.stats().written, 5000u);
  // Twice the live bytes, the two segments of slack and those in flight.
  EXPECT_LE(largest, 2 * 60000 + 8 * kSmallSegment);
  std::vector<std::string> seen;
  ASSERT_TRUE(records.ForEach([&](const std::string& s) { seen.push_back(s); }));
  EXPECT_EQ(seen, expected);
}

TEST(SpilledRecordsTest, TheFileStaysWithinTwiceTheLiveBytes) { ExpectFileWithinTwiceTheLiveBytes(false); }

TEST(SpilledRecordsTest, TheWriterThreadsFileStaysWithinTwiceTheLiveBytes) { ExpectFileWithinTwiceTheLiveBytes(true); }

// Trim runs between every two steps of a loader; it writes batches of at least 1/64 of the
// budget, not the one record over it.
TEST(SpilledRecordsTest, TrimWritesBatchesOfAtLeastASixtyFourthOfTheBudget) {
  TempDir dir;
  auto records = Strings(dir.Sub("spill"), 640, /*background=*/false);
  ASSERT_TRUE(records.Open());
  std::vector<std::string> expected;
  for (int i = 0; i < 5000; ++i) {
    expected.push_back(std::string(50, static_cast<char>('a' + i % 26)));
    records.Add(std::make_unique<std::string>(expected.back()));
    ASSERT_TRUE(records.Trim());
  }
  EXPECT_GT(records.stats().written, 4000u);
  EXPECT_LE(records.stats().batches, records.stats().written / 10);
  EXPECT_LE(records.stats().written, 5000u - 640u);
  std::vector<std::string> seen;
  ASSERT_TRUE(records.ForEach([&](const std::string& s) { seen.push_back(s); }));
  EXPECT_EQ(seen, expected);
}

// A dropped record is freed, never written out again and no longer given, whether it was
// held decoded, in the file or in the writer thread's batch when dropped; the copies of the
// dropped records are released, so the file stays within twice the live bytes of the rest.
void ExpectDroppedRecordsAreForgotten(bool background) {
  TempDir dir;
  std::atomic<int> dropped_encoded{0};
  std::atomic<bool> counting{false};
  SpilledRecords<std::string> records(
      dir.Sub("spill"), 5,
      [&](const std::string& s, std::string& out) {
        if (counting && s.starts_with("drop")) ++dropped_encoded;
        out += s;
      },
      [](std::string_view bytes, const std::string&) -> StoreResult<std::unique_ptr<std::string>> {
        return std::make_unique<std::string>(bytes);
      },
      background, kSmallSegment);
  ASSERT_TRUE(records.Open());
  std::mt19937_64 random(background ? 13 : 17);
  std::vector<std::string> expected;
  for (int i = 0; i < 200; ++i) {  // every other one to be dropped
    expected.push_back((i % 2 ? "keep" : "drop") + std::string(100 + random() % 201, static_cast<char>('a' + i % 26)));
    records.Add(std::make_unique<std::string>(expected.back()));
    if (i % 7 == 0) {
      ASSERT_TRUE(records.Trim());  // some written out, some in flight
    }
  }
  for (size_t i = 0; i < expected.size(); i += 2) records.Drop(i);
  std::vector<std::string> seen, kept;
  ASSERT_TRUE(records.ForEach([&](const std::string& s) { seen.push_back(s); }));  // collects any batch
  for (size_t i = 1; i < expected.size(); i += 2) kept.push_back(expected[i]);
  EXPECT_EQ(seen, kept);
  counting = true;
  uint64_t largest = 0;
  for (int step = 0; step < 6000; ++step) {
    const size_t i = random() % expected.size();
    auto got = records.Get(i);
    if (i % 2 == 0) {
      EXPECT_FALSE(got) << "record " << i << " was dropped";
      continue;
    }
    ASSERT_TRUE(got) << got.error().message;
    ASSERT_EQ(**got, expected[i]) << "record " << i << " at step " << step;
    expected[i] = "keep" + std::string(100 + random() % 201, static_cast<char>('A' + step % 26));
    **got = expected[i];
    ASSERT_TRUE(records.Trim());
    largest = std::max(largest, records.stats().file_bytes);
  }
  EXPECT_EQ(dropped_encoded.load(), 0);
  // The 100 kept records hold at most 30,400 live bytes: twice that, the two segments of
  // slack and those in flight (all 200 records' copies would be up to 60,800 bytes).
  EXPECT_LE(largest, 2 * 30400 + 8 * kSmallSegment);
  seen.clear();
  kept.clear();
  ASSERT_TRUE(records.ForEach([&](const std::string& s) { seen.push_back(s); }));
  for (size_t i = 1; i < expected.size(); i += 2) kept.push_back(expected[i]);
  EXPECT_EQ(seen, kept);
}

TEST(SpilledRecordsTest, DroppedRecordsAreForgotten) { ExpectDroppedRecordsAreForgotten(false); }

TEST(SpilledRecordsTest, RecordsDroppedBesideTheWriterThreadAreForgotten) { ExpectDroppedRecordsAreForgotten(true); }

TEST(SpillFileTest, ASegmentWhoseCopiesAreAllReleasedIsTakenAgain) {
  TempDir dir;
  auto file = SpillFile::Create(dir.Sub("spill"), kSmallSegment);
  ASSERT_TRUE(file);
  std::vector<SpillFile::Slot> slots(8);
  for (uint32_t i = 0; i < 8; ++i) {  // 8 x 256 bytes: segments 0 and 1
    ASSERT_TRUE((*file)->Append(i, std::string(256, static_cast<char>('a' + i)), slots[i]));
  }
  ASSERT_TRUE((*file)->Flush());
  EXPECT_EQ((*file)->file_bytes(), 2 * kSmallSegment);
  for (uint32_t i = 0; i < 4; ++i) (*file)->Release(slots[i]);  // segment 0 empties
  for (uint32_t i = 0; i < 4; ++i) {
    ASSERT_TRUE((*file)->Append(i, std::string(256, static_cast<char>('A' + i)), slots[i]));
  }
  ASSERT_TRUE((*file)->Flush());
  EXPECT_EQ((*file)->file_bytes(), 2 * kSmallSegment) << "segment 0 was not taken again";
  std::string out;
  for (uint32_t i = 0; i < 8; ++i) {
    ASSERT_TRUE((*file)->Read(slots[i], out));
    EXPECT_EQ(out, std::string(256, static_cast<char>((i < 4 ? 'A' : 'a') + i)));
  }
}

TEST(SpillFileTest, ARecordOverTheSegmentIsRefusedAndTheFileGoesOn) {
  TempDir dir;
  auto file = SpillFile::Create(dir.Sub("spill"), kSmallSegment);
  ASSERT_TRUE(file);
  SpillFile::Slot big, small;
  auto refused = (*file)->Append(0, std::string(kSmallSegment + 1, 'x'), big);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, StoreErrorCode::kInvalidArgument);
  ASSERT_TRUE((*file)->Append(1, std::string(kSmallSegment, 'y'), small));
  ASSERT_TRUE((*file)->Flush());
  std::string out;
  ASSERT_TRUE((*file)->Read(small, out));
  EXPECT_EQ(out, std::string(kSmallSegment, 'y'));
}

}  // namespace
}  // namespace caseledger::eventstore
