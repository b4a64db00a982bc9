#include "projections/people_spill.h"
#include "projections/views_db.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>

namespace caseledger::projections {
namespace {

class PeopleSpillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = std::filesystem::temp_directory_path() /
          ("people-spill-" + std::to_string(::getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
  std::filesystem::path dir;
};

std::string Ulid(std::mt19937_64& rng) {
  static constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  std::string id(26, '0');
  id[0] = kAlphabet[rng() % 8];
  for (size_t i = 1; i < id.size(); ++i) id[i] = kAlphabet[rng() % 32];
  return id;
}

TEST(PeopleSpillUlidTest, AUlidPacksInto128BitsAndBackAndNothingElseDoes) {
  std::mt19937_64 rng(5);
  std::array<uint64_t, 2> a, b;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = Ulid(rng);
    ASSERT_TRUE(PeopleSpill::PackUlid(id, a)) << id;
    EXPECT_EQ(PeopleSpill::UnpackUlid(a), id);
    // Their order is the text's.
    const std::string other = Ulid(rng);
    ASSERT_TRUE(PeopleSpill::PackUlid(other, b));
    EXPECT_EQ(a < b, id < other) << id << " " << other;
  }
  EXPECT_FALSE(PeopleSpill::PackUlid("01ARZ3NDEKTSV4RRFFQ69G5FA", a));     // 25 characters
  EXPECT_FALSE(PeopleSpill::PackUlid("81ARZ3NDEKTSV4RRFFQ69G5FAV", a));    // over 128 bits
  EXPECT_FALSE(PeopleSpill::PackUlid("01ARZ3NDEKTSV4RRFFQ69G5FAI", a));    // I is not Crockford's
  EXPECT_FALSE(PeopleSpill::PackUlid("01arz3ndektsv4rrffq69g5fav", a));    // lower case: not as written
  EXPECT_TRUE(PeopleSpill::PackUlid("7ZZZZZZZZZZZZZZZZZZZZZZZZZ", a));
  EXPECT_EQ(a[0], ~uint64_t{0});
  EXPECT_EQ(a[1], ~uint64_t{0});
}

TEST_F(PeopleSpillTest, TheLatestEntryOfEachPersonIsReadBackWrittenOrNotAndTakenInKeyOrder) {
  auto created = PeopleSpill::Create((dir / "people-0").string());
  ASSERT_TRUE(created) << created.error().message;
  PeopleSpill& spill = **created;
  std::mt19937_64 rng(11);
  std::map<std::string, std::string> latest;
  std::vector<std::string> ids;
  for (int i = 0; i < 300; ++i) ids.push_back(Ulid(rng));
  ids.push_back("P-1");  // ids that are not ULIDs (tests' people) sort among the others
  ids.push_back("ZZ");
  ids.push_back("");
  std::string value;
  for (int round = 0; round < 5; ++round) {
    for (int k = 0; k < 200; ++k) {
      const std::string& id = ids[rng() % ids.size()];
      // Values of any length, some empty, one over a page.
      std::string v(rng() % 5 == 0 ? 0 : (k == 7 ? 5000 : rng() % 300), static_cast<char>('a' + round));
      if (!v.empty()) v.back() = static_cast<char>(k);
      spill.Put(id, v);
      latest[id] = v;
      // Before the Write too.
      auto got = spill.Get(id, value);
      ASSERT_TRUE(got && *got);
      EXPECT_EQ(value, v);
    }
    ASSERT_TRUE(spill.Write());
    for (const auto& [id, v] : latest) {
      auto got = spill.Get(id, value);
      ASSERT_TRUE(got) << got.error().message;
      ASSERT_TRUE(*got) << id;
      EXPECT_EQ(value, v) << id;
    }
  }
  EXPECT_EQ(spill.people(), latest.size());
  EXPECT_GT(spill.IndexBytes(), 0u);
  auto absent = spill.Get(Ulid(rng), value);
  ASSERT_TRUE(absent);
  EXPECT_FALSE(*absent);

  std::map<std::string, std::string> drained;
  std::string previous;
  bool first = true;
  PeopleSpill::Sorted sorted = spill.TakeSorted();
  EXPECT_EQ(spill.people(), 0u);  // the index given back
  std::string v;
  for (; !sorted.Done(); sorted.Next()) {
    if (!first) {
      EXPECT_LT(previous, sorted.Id());
    }
    first = false;
    previous = sorted.Id();
    ASSERT_TRUE(sorted.Value(v));
    drained.emplace(sorted.Id(), v);
  }
  EXPECT_EQ(drained, latest);
  EXPECT_EQ(spill.people(), 0u);
}

// The end of a catch-up merges on two threads: a sorted run split at an id gives two runs,
// the ids before it and the ids from it on, each in order, together every person once.
TEST_F(PeopleSpillTest, ASortedRunSplitAtAnIdHoldsEveryPersonOnceOnEitherSide) {
  auto created = PeopleSpill::Create((dir / "people-0").string());
  ASSERT_TRUE(created) << created.error().message;
  PeopleSpill& spill = **created;
  std::mt19937_64 rng(17);
  std::map<std::string, std::string> all;
  for (int i = 0; i < 500; ++i) all[Ulid(rng)] = "u" + std::to_string(i);
  all["P-1"] = "p1";
  all["P-2"] = "p2";
  for (const auto& [id, v] : all) spill.Put(id, v);
  ASSERT_TRUE(spill.Write());
  auto drain = [](PeopleSpill::Sorted& run) {
    std::vector<std::pair<std::string, std::string>> out;
    std::string v;
    for (; !run.Done(); run.Next()) {
      EXPECT_TRUE(run.Value(v));
      out.emplace_back(run.Id(), v);
    }
    return out;
  };
  PeopleSpill::Sorted lower = spill.TakeSorted();
  ASSERT_EQ(lower.size(), all.size());
  const std::string pivot = lower.Middle();
  ASSERT_FALSE(pivot.empty());
  PeopleSpill::Sorted upper = lower.SplitAt(pivot);
  EXPECT_EQ(lower.size() + upper.size(), all.size());
  EXPECT_GT(lower.size(), all.size() / 3);  // the middle: neither side nearly empty
  EXPECT_GT(upper.size(), all.size() / 3);
  // A split of the upper part again, at a non-ULID id ("P-2" sorts among the ULIDs).
  PeopleSpill::Sorted top = upper.SplitAt("P-2");
  const auto a = drain(lower), b = drain(upper), c = drain(top);
  std::vector<std::pair<std::string, std::string>> joined(a);
  joined.insert(joined.end(), b.begin(), b.end());
  joined.insert(joined.end(), c.begin(), c.end());
  const std::vector<std::pair<std::string, std::string>> expected(all.begin(), all.end());
  EXPECT_EQ(joined, expected);
  for (const auto& [id, v] : a) EXPECT_LT(id, pivot);
  for (const auto& [id, v] : b) EXPECT_TRUE(id >= pivot && id < "P-2") << id;
  ASSERT_FALSE(c.empty());
  EXPECT_EQ(c.front().first, "P-2");
  // The index already taken: nobody left, no middle to split at.
  PeopleSpill::Sorted none = spill.TakeSorted();
  EXPECT_EQ(none.size(), 0u);
  EXPECT_TRUE(none.Middle().empty());
}

// The end of a catch-up reads every person's latest entry in id order: people registered
// together (ULIDs of close times) were last written by nearby Flushes, so their entries are
// read ahead several at a time (one pread per person was 6.7 M system calls at 1:1), and
// the entries read are the latest, whatever their size or where they lie.
TEST_F(PeopleSpillTest, TheSortedRunsReadNearbyEntriesTogetherAndEachPersonsLatest) {
  auto created = PeopleSpill::Create((dir / "people-0").string());
  ASSERT_TRUE(created) << created.error().message;
  PeopleSpill& spill = **created;
  std::mt19937_64 rng(23);
  constexpr int kPeople = 20000;
  std::vector<std::string> ids;
  for (int i = 0; i < kPeople; ++i) {
    // Ids in registration order: a ULID's first 10 characters are its time.
    char time[11];
    std::snprintf(time, sizeof time, "%010d", i);
    ids.push_back(std::string(time) + Ulid(rng).substr(10));
  }
  std::map<std::string, std::string> latest;
  auto put = [&](int person, size_t size) {
    std::string v(size, static_cast<char>('a' + rng() % 26));
    v += std::to_string(rng());
    spill.Put(ids[person], v);
    latest[ids[person]] = v;
  };
  // Flushes of the people changed since the one before: each person written at a few
  // Flushes after their registration, some again much later, one entry over kAheadBytes.
  for (int flush = 0; flush < kPeople / 500 + 8; ++flush) {
    for (int person = std::max(0, (flush - 8) * 500); person < std::min(kPeople, flush * 500 + 500); ++person) {
      if (rng() % 3 == 0) put(person, 150 + rng() % 100);
    }
    if (flush % 10 == 9) put(static_cast<int>(rng() % kPeople), 200);
    if (flush == 20) put(7, PeopleSpill::kAheadBytes + 1000);
    ASSERT_TRUE(spill.Write());
  }
  for (int person = 0; person < kPeople; ++person) {
    if (latest.count(ids[person]) == 0) put(person, 10);
  }
  spill.Put(ids.back(), "");  // an empty entry, and one not written to the file yet
  latest[ids.back()] = "";
  const uint64_t reads_before = spill.FileReads();
  PeopleSpill::Sorted lower = spill.TakeSorted();
  PeopleSpill::Sorted upper = lower.SplitAt(lower.Middle());
  std::map<std::string, std::string> drained;
  std::string v;
  for (PeopleSpill::Sorted* run : {&lower, &upper}) {
    for (; !run->Done(); run->Next()) {
      ASSERT_TRUE(run->Value(v));
      ASSERT_TRUE(run->Value(v));  // twice: the same
      drained.emplace(run->Id(), v);
    }
  }
  EXPECT_EQ(drained, latest);
  const uint64_t reads = spill.FileReads() - reads_before;
  EXPECT_LT(reads, kPeople / 20) << "reads of the file for " << kPeople << " people";
  EXPECT_GT(reads, 0u);
}

TEST_F(PeopleSpillTest, TheFileIsRemovedWithTheSpill) {
  const auto path = dir / "people-1";
  {
    auto created = PeopleSpill::Create(path.string());
    ASSERT_TRUE(created);
    (*created)->Put("01ARZ3NDEKTSV4RRFFQ69G5FAV", "x");
    ASSERT_TRUE((*created)->Write());
    EXPECT_TRUE(std::filesystem::exists(path));
    EXPECT_EQ((*created)->FileBytes(), 1u);
  }
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(PeopleSpill::Create((dir / "no-such-dir" / "people").string()));
}

// The end of a catch-up's spill: the entries a run yields, ingested as one table file, are
// read back from the views database beside the entries written before; a run that fails
// half-way ingests nothing, and one that yields nothing writes no file.
TEST_F(PeopleSpillTest, IngestedEntriesAreReadBackAndAFailedRunIngestsNothing) {
  auto opened = ViewsDb::Open((dir / "views").string());
  ASSERT_TRUE(opened) << opened.error().message;
  ViewsDb& db = **opened;
  ViewsDb::Batch batch;
  batch.Put("gps/1", "row");
  batch.Put("people/0", "written before");
  ASSERT_TRUE(db.Write(batch, false));

  int n = 0;
  auto failed = db.Ingest((dir / "a.sst").string(), [&](std::string& key, std::string& value)
                                                        -> eventstore::StoreResult<bool> {
    if (n == 3) return eventstore::StoreError(eventstore::StoreErrorCode::kIo, "read failed");
    key = "people/" + std::to_string(++n);
    value = "v" + std::to_string(n);
    return true;
  });
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().message, "read failed");
  EXPECT_FALSE(std::filesystem::exists(dir / "a.sst"));
  auto absent = db.Get("people/1");
  ASSERT_TRUE(absent);
  EXPECT_FALSE(absent->has_value());

  n = 0;
  ASSERT_TRUE(db.Ingest((dir / "b.sst").string(), [&](std::string& key, std::string& value)
                                                      -> eventstore::StoreResult<bool> {
    if (n == 1000) return false;
    ++n;
    key = "people/" + std::to_string(1000 + n);  // ascending: all of 4 digits
    value = "entry " + std::to_string(n);
    return true;
  }));
  EXPECT_FALSE(std::filesystem::exists(dir / "b.sst"));  // moved into the database
  std::map<std::string, std::string> people;
  ASSERT_TRUE(db.Scan("people/", nullptr, [&](std::string_view k, std::string_view v) { people.emplace(k, v); }));
  EXPECT_EQ(people.size(), 1001u);
  EXPECT_EQ(people["people/0"], "written before");
  EXPECT_EQ(people["people/1001"], "entry 1");
  EXPECT_EQ(people["people/2000"], "entry 1000");
  auto row = db.Get("gps/1");
  ASSERT_TRUE(row && row->has_value());
  EXPECT_EQ(**row, "row");

  ASSERT_TRUE(db.Ingest((dir / "c.sst").string(),
                        [](std::string&, std::string&) -> eventstore::StoreResult<bool> { return false; }));
  EXPECT_FALSE(std::filesystem::exists(dir / "c.sst"));
}

// Several runs at once (the two halves of a catch-up's people), each on a thread of its own:
// all of them ingested together, or, when one fails, none of them.
TEST_F(PeopleSpillTest, RunsIngestedTogetherAreAllReadBackOrNoneIsWhenOneFails) {
  auto opened = ViewsDb::Open((dir / "views").string());
  ASSERT_TRUE(opened) << opened.error().message;
  ViewsDb& db = **opened;
  auto run = [](int from, int to, int fail_at) -> ViewsDb::IngestSource {
    auto n = std::make_shared<int>(from);
    return [=](std::string& key, std::string& value) -> eventstore::StoreResult<bool> {
      if (*n == fail_at) return eventstore::StoreError(eventstore::StoreErrorCode::kIo, "read failed");
      if (*n == to) return false;
      key = "people/" + std::to_string(*n);
      value = "v" + std::to_string(*n);
      ++*n;
      return true;
    };
  };
  const std::vector<std::string> paths{(dir / "lower.sst").string(), (dir / "upper.sst").string()};
  auto failed = db.Ingest(paths, std::vector<ViewsDb::IngestSource>{run(1000, 5000, -1), run(5000, 9000, 8000)});
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().message, "read failed");
  EXPECT_FALSE(std::filesystem::exists(paths[0]));
  EXPECT_FALSE(std::filesystem::exists(paths[1]));
  size_t seen = 0;
  ASSERT_TRUE(db.Scan("people/", nullptr, [&](std::string_view, std::string_view) { ++seen; }));
  EXPECT_EQ(seen, 0u);

  // One run empty (a split that left a side with nobody): the other is ingested alone.
  ASSERT_TRUE(db.Ingest(paths, std::vector<ViewsDb::IngestSource>{run(1000, 5000, -1), run(5000, 5000, -1)}));
  ASSERT_TRUE(db.Ingest(std::vector<std::string>{(dir / "a.sst").string(), (dir / "b.sst").string()},
                        std::vector<ViewsDb::IngestSource>{run(5000, 7000, -1), run(7000, 9000, -1)}));
  std::map<std::string, std::string> people;
  ASSERT_TRUE(db.Scan("people/", nullptr, [&](std::string_view k, std::string_view v) { people.emplace(k, v); }));
  EXPECT_EQ(people.size(), 8000u);
  EXPECT_EQ(people["people/1000"], "v1000");
  EXPECT_EQ(people["people/6999"], "v6999");
  EXPECT_EQ(people["people/8999"], "v8999");
  for (const auto& path : paths) EXPECT_FALSE(std::filesystem::exists(path));
}

// Without compression (TableIngestOptions::compressed false: a catch-up's people, whose
// end was mostly LZ4's), a table file holds its entries' bytes as they are: read back alike,
// more bytes on disk than the same entries compressed.
TEST_F(PeopleSpillTest, AnUncompressedTableIsReadBackAlikeWithItsBytesAsTheyAre) {
  constexpr int kEntries = 2000;
  constexpr size_t kValueBytes = 200;
  std::map<bool, uint64_t> table_bytes;
  for (const bool compressed : {true, false}) {
    SCOPED_TRACE(compressed);
    const auto sub = dir / (compressed ? "lz4" : "raw");
    auto opened = ViewsDb::Open((sub / "views").string());
    ASSERT_TRUE(opened) << opened.error().message;
    ViewsDb& db = **opened;
    int n = 0;
    ViewsDb::IngestOptions io;
    io.compressed = compressed;
    ASSERT_TRUE(db.Ingest((sub / "people.sst").string(), [&](std::string& key, std::string& value)
                                                             -> eventstore::StoreResult<bool> {
      if (n == kEntries) return false;
      ++n;
      key = "people/" + std::to_string(10000 + n);
      value = std::to_string(n) + std::string(kValueBytes, 'a' + n % 3);  // compressible
      return true;
    }, io));
    std::map<std::string, std::string> people;
    ASSERT_TRUE(db.Scan("people/", nullptr, [&](std::string_view k, std::string_view v) { people.emplace(k, v); }));
    ASSERT_EQ(people.size(), size_t{kEntries});
    EXPECT_EQ(people["people/10001"], "1" + std::string(kValueBytes, 'b'));
    EXPECT_EQ(people["people/12000"], "2000" + std::string(kValueBytes, 'c'));
    for (const auto& entry : std::filesystem::directory_iterator(sub / "views")) {
      if (entry.path().extension() == ".sst") table_bytes[compressed] += entry.file_size();
    }
  }
  EXPECT_GT(table_bytes[false], uint64_t{kEntries} * kValueBytes);
  EXPECT_GT(table_bytes[false], 4 * table_bytes[true]);
}

// A catch-up from scratch writes its batches as table files (ViewsDb::WriteAsTable): the
// database reads back what the same batches written through its memtable leave, a key put
// twice in a batch or rewritten and deleted batch after batch included, whether the batches
// kept reach a table's size many times (a small memtable) or never before FlushTables.
TEST_F(PeopleSpillTest, BatchesWrittenAsTablesLeaveWhatTheSameBatchesWrittenLeave) {
  for (const size_t buffer : {size_t{16} << 10, size_t{64} << 20}) {
    SCOPED_TRACE(buffer);
    ViewsDbOptions o;
    o.write_buffer_bytes = buffer;
    const auto sub = dir / std::to_string(buffer);
    std::filesystem::create_directories(sub);
    auto written = ViewsDb::Open((sub / "written").string(), o);
    auto tables = ViewsDb::Open((sub / "tables").string(), o);
    ASSERT_TRUE(written && tables);
    std::mt19937_64 rng(23);
    for (int round = 0; round < 40; ++round) {
      ViewsDb::Batch a, b;
      // Sorted runs appended one after the other, as the pipeline's batches are: a few
      // (Batch::Sort merges them) or many (it sorts the whole batch).
      const int runs = round % 3 == 2 ? 70 : 1 + round % 5, per_run = runs == 70 ? 4 : 50;
      for (int run = 0; run < runs; ++run) {
        ViewsDb::Batch part;
        for (int k = 0; k < per_run; ++k) {
          const std::string key = "gps/" + std::to_string(rng() % 400);
          if (rng() % 4 == 0) {
            part.Delete(key);
          } else {
            part.Put(key, "r" + std::to_string(round) + "-" + std::to_string(k) + std::string(rng() % 40, 'x'));
          }
        }
        part.Sort();
        a.Append(part);
        b.Append(part);
      }
      a.Put("gps/7", "last put wins " + std::to_string(round));  // the same key again, last
      b.Put("gps/7", "last put wins " + std::to_string(round));
      ASSERT_TRUE((*written)->Write(a, false));
      auto kept = (*tables)->WriteAsTable(b, sub.string());
      ASSERT_TRUE(kept) << kept.error().message;
      EXPECT_EQ(b.count(), 0u);  // taken
    }
    ViewsDb::Batch empty;
    ASSERT_TRUE((*tables)->WriteAsTable(empty, sub.string()));
    ASSERT_TRUE((*tables)->FlushTables(sub.string()));
    ASSERT_TRUE((*tables)->FlushTables(sub.string()));  // nothing kept: nothing written
    std::map<std::string, std::string> x, y;
    ASSERT_TRUE((*written)->Scan("gps/", nullptr, [&](std::string_view k, std::string_view v) { x.emplace(k, v); }));
    ASSERT_TRUE((*tables)->Scan("gps/", nullptr, [&](std::string_view k, std::string_view v) { y.emplace(k, v); }));
    EXPECT_GT(x.size(), 100u);
    EXPECT_LT(x.size(), 400u);  // some deleted at the end
    EXPECT_EQ(x, y);
    EXPECT_EQ(y["gps/7"], "last put wins 39");
    for (const auto& f : std::filesystem::directory_iterator(sub)) {
      EXPECT_NE(f.path().extension(), ".sst") << f.path();  // every table moved in
    }
  }
}

}  // namespace
}  // namespace caseledger::projections
