#include "projections/people_spill.h"
#include "projections/views_db.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
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

}  // namespace
}  // namespace caseledger::projections
