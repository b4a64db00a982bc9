#include "projections/series_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace caseledger::projections {
namespace {

using Table = SeriesTable<2>;

const domain::Date kDay{18'500};

// The keys a snapshot holds, in the order ForEach gives them, with each one's count.
std::vector<std::pair<std::string, int32_t>> Contents(const Table::Rows& rows) {
  std::vector<std::pair<std::string, int32_t>> out;
  rows.ForEach([&](const std::string& key, const Table::Series& s) { out.emplace_back(key, s.At(kDay)[1]); });
  return out;
}

// Entities come in random order and change at random across many Freezes (a new one
// splits chunks and moves rows between them): every snapshot reads exactly what was added
// up to it, in key order, whatever came after it, and ChangedKeys names the keys changed
// since the Freeze before.
TEST(SeriesTableTest, EverySnapshotReadsWhatWasAddedUpToItWhateverCameAfter) {
  Table table;
  std::mt19937 rng(7);
  std::map<std::string, int32_t> model;
  std::vector<std::pair<std::shared_ptr<const Table::Rows>, std::map<std::string, int32_t>>> snapshots;
  for (int round = 0; round < 60; ++round) {
    std::vector<std::string> changed;
    const int adds = 1 + static_cast<int>(rng() % 40);
    for (int a = 0; a < adds; ++a) {
      // Keys from a space of 400, so that later rounds mostly change existing ones.
      const std::string key = "k" + std::to_string(rng() % 400);
      table.Add(key, kDay, 1, 1);
      ++model[key];
      changed.push_back(key);
    }
    std::sort(changed.begin(), changed.end());
    changed.erase(std::unique(changed.begin(), changed.end()), changed.end());
    EXPECT_EQ(table.ChangedKeys(), changed) << "round " << round;
    snapshots.emplace_back(table.FreezeRows(), model);
    EXPECT_TRUE(table.ChangedKeys().empty());
  }
  for (size_t i = 0; i < snapshots.size(); ++i) {
    const auto& [rows, expected] = snapshots[i];
    const std::vector<std::pair<std::string, int32_t>> in_order(expected.begin(), expected.end());
    EXPECT_EQ(Contents(*rows), in_order) << "snapshot " << i;
    for (int k = 0; k < 400; ++k) {
      const std::string key = "k" + std::to_string(k);
      const Table::Series* s = Table::FindIn(*rows, key);
      auto it = expected.find(key);
      if (it == expected.end()) {
        EXPECT_EQ(s, nullptr) << key << " in snapshot " << i;
      } else {
        ASSERT_NE(s, nullptr) << key << " in snapshot " << i;
        EXPECT_EQ(s->At(kDay)[1], it->second) << key << " in snapshot " << i;
      }
    }
    EXPECT_EQ(Table::FindIn(*rows, ""), nullptr);
    EXPECT_EQ(Table::FindIn(*rows, "zz"), nullptr);
  }
  EXPECT_GT(model.size(), 300u);
}

// A Freeze after one entity changed copies that entity's chunk only: the new snapshot
// shares every other chunk with the one before (the rows of a 1,000-entity table are not
// copied per batch for a few changes), and a Freeze after no change gives the same
// snapshot.
TEST(SeriesTableTest, AFreezeCopiesOnlyTheChunksThatChanged) {
  Table table;
  for (int k = 0; k < 1000; ++k) table.Add("m" + std::to_string(100'000 + k), kDay, 0, 1);
  auto before = table.FreezeRows();
  ASSERT_GT(before->chunks.size(), 50u);
  EXPECT_EQ(table.FreezeRows(), before);

  table.Add("m100500", kDay, 0, 1);
  auto after = table.FreezeRows();
  ASSERT_EQ(after->chunks.size(), before->chunks.size());
  size_t shared = 0;
  for (size_t c = 0; c < after->chunks.size(); ++c) shared += after->chunks[c] == before->chunks[c];
  EXPECT_EQ(shared, before->chunks.size() - 1);
  EXPECT_EQ(Table::FindIn(*before, "m100500")->At(kDay)[0], 1);
  EXPECT_EQ(Table::FindIn(*after, "m100500")->At(kDay)[0], 2);

  // A new entity changes (or splits) the one chunk it goes into.
  table.Add("m100500a", kDay, 0, 1);
  auto grown = table.FreezeRows();
  size_t kept = 0;
  for (const auto& chunk : grown->chunks) {
    kept += std::find(after->chunks.begin(), after->chunks.end(), chunk) != after->chunks.end();
  }
  EXPECT_GE(kept, after->chunks.size() - 1);
  EXPECT_EQ(Table::FindIn(*grown, "m100500a")->At(kDay)[0], 1);
  EXPECT_EQ(Table::FindIn(*after, "m100500a"), nullptr);
}

// Persisted blocks load back into an empty table (Load: not a change) that reads as the
// table did.
TEST(SeriesTableTest, PersistedBlocksLoadBackAsTheyWere) {
  struct Sink final : PersistSink {
    std::vector<std::pair<std::string, std::string>> puts;
    void Put(std::string_view k, std::string_view v) override { puts.emplace_back(k, v); }
    void Delete(std::string_view) override {}
  } sink;
  Table table;
  for (int k = 0; k < 100; ++k) table.Add("e" + std::to_string(k * 37 % 100), kDay + k, 1, k + 1);
  table.Persist(sink);
  Table loaded;
  for (const auto& [k, v] : sink.puts) ASSERT_TRUE(loaded.Load(k, v)) << k;
  EXPECT_TRUE(loaded.ChangedKeys().empty());
  auto a = table.FreezeRows();
  auto b = loaded.FreezeRows();
  std::vector<std::string> keys_a, keys_b;
  a->ForEach([&](const std::string& key, const Table::Series& s) { keys_a.push_back(key + ":" + std::to_string(s.Total(1))); });
  b->ForEach([&](const std::string& key, const Table::Series& s) { keys_b.push_back(key + ":" + std::to_string(s.Total(1))); });
  EXPECT_EQ(keys_a.size(), 100u);
  EXPECT_EQ(keys_a, keys_b);
}

}  // namespace
}  // namespace caseledger::projections
