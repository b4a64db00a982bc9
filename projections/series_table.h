// The table of a keyed view made of day series (one per entity key: keyed_view.h): dirty
// blocks to persist, changed keys to announce, and immutable copies to publish.
//
// Persisted entries: "<key>/<block number>" -> the block's counters (day_series.h codec).
#pragma once

#include "domain/string_hash.h"
#include "projections/cow.h"
#include "projections/day_series.h"
#include "projections/keyed_view.h"

#include <absl/container/flat_hash_map.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace caseledger::projections {

// Ids by municipality (Effect::place: the ISTAT code as a number), found with two loads
// rather than by hashing the code: a table per province (the code's first three digits) of
// its 1,000 municipalities. Why: the region and municipality views looked every effect's
// municipality (and the region's ASL of it) up by strings, ~4 % of a rebuild's
// instructions at 1:100 (SeriesTable::Slot; docs/benchmarks.md, session 19).
class PlaceMemo {
 public:
  static constexpr uint32_t kUnknown = 0xffffffff;
  uint32_t Get(uint32_t place) const {
    const size_t province = place / 1000;
    return province < provinces_.size() && provinces_[province] ? (*provinces_[province])[place % 1000] : kUnknown;
  }
  void Set(uint32_t place, uint32_t id) {
    const size_t province = place / 1000;
    if (province >= provinces_.size()) provinces_.resize(province + 1);
    if (!provinces_[province]) {
      provinces_[province] = std::make_unique<std::array<uint32_t, 1000>>();
      provinces_[province]->fill(kUnknown);
    }
    (*provinces_[province])[place % 1000] = id;
  }
  void Clear() { provinces_.clear(); }

 private:
  std::vector<std::unique_ptr<std::array<uint32_t, 1000>>> provinces_;
};

template <size_t N>
class SeriesTable : public KeyedTable {
 public:
  using Series = DaySeries<N>;
  using Row = std::pair<std::string, std::shared_ptr<const Series>>;
  // What readers see: the rows sorted by key, in chunks. A snapshot shares every chunk
  // without a changed row with the snapshot before it, and each series with the working
  // state until it changes. (A 10 ms batch of the live server changes 15-45 of the ~1,050
  // municipalities of a fresh store and adds a new one every few batches: copying every
  // row's key and pointer per batch, all of them again after a new one shifted the rows,
  // was ~4 % of the views' thread under the commands' load.)
  struct Rows {
    std::vector<std::shared_ptr<const std::vector<Row>>> chunks;  // none empty
    // visit(key, series) for every row, in key order.
    template <class Visit>
    void ForEach(Visit&& visit) const {
      for (const auto& chunk : chunks) {
        for (const auto& [key, series] : *chunk) visit(key, *series);
      }
    }
  };
  // A chunk holds at most 2 * kChunk rows: one that grows past it splits in two.
  static constexpr size_t kChunk = 8;

  // Writer only. What changed is marked on the entity's row (no set to insert into per
  // event: this runs for every effect of every event of a rebuild).
  void Add(std::string_view key, domain::Date day, size_t column, int32_t delta) {
    if (delta != 0) AddTo(Id(key), day, column, delta);
  }
  // The entity's id, the entity made (empty) when new: stable until Clear. With AddTo, for
  // a view that finds its rows without hashing their keys (PlaceMemo).
  uint32_t Id(std::string_view key) { return Slot(key); }
  void AddTo(uint32_t id, domain::Date day, size_t column, int32_t delta) {
    if (delta == 0) return;
    Entity& row = entities_[id];
    const int32_t block = Series::BlockOf(day);
    // Most effects find their entity owned, changed and its block marked last: the rest
    // apart (Mark), so that AddTo and Add are a few instructions, inlined into the views
    // (docs/benchmarks.md, session 30).
    if (row.owned_at != freezes_ || !row.changed || row.dirty.empty() || row.dirty.back() != block) {
      Mark(row, block);
    }
    row.series->Add(day, column, delta);
  }
  const Series* Find(std::string_view key) const {
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : entities_[it->second].series.get();
  }

  // Writes every block changed since the last Persist.
  void Persist(PersistSink& sink) override {
    std::string key;
    for (const Chunk& chunk : chunks_) {
      for (uint32_t id : chunk.ids) {
        Entity& row = entities_[id];
        for (int32_t block : row.dirty) {
          key.assign(row.key).append("/").append(std::to_string(block));
          sink.Put(key, row.series->EncodeBlock(block));
        }
        row.dirty.clear();
      }
    }
  }
  bool Load(std::string_view key, std::string_view value) override {
    size_t slash = key.rfind('/');
    if (slash == std::string_view::npos || slash == 0) return false;
    int32_t block = 0;
    const char* end = key.data() + key.size();
    auto [p, ec] = std::from_chars(key.data() + slash + 1, end, block);
    if (ec != std::errc() || p != end) return false;
    return cow::Own(entities_[Slot(key.substr(0, slash))].series).LoadBlock(block, value);
  }

  // KeyedTable::Freeze: a Rows.
  std::shared_ptr<const void> Freeze() override { return FreezeRows(); }
  // The rows as they are now, for a snapshot; clears the changed keys. Copies the rows of
  // the chunks that changed (a row, or a new row in them) since the last Freeze.
  std::shared_ptr<const Rows> FreezeRows() {
    if (!frozen_ || changed_ > 0 || reshaped_) {
      ++freezes_;
      auto rows = std::make_shared<Rows>();
      rows->chunks.reserve(chunks_.size());
      for (Chunk& chunk : chunks_) {
        if (!chunk.frozen) {
          auto copy = std::make_shared<std::vector<Row>>();
          copy->reserve(chunk.ids.size());
          for (uint32_t id : chunk.ids) {
            Entity& row = entities_[id];
            copy->emplace_back(row.key, row.series);
            row.changed = false;
          }
          chunk.frozen = std::move(copy);
        }
        rows->chunks.push_back(chunk.frozen);
      }
      frozen_ = std::move(rows);
    }
    changed_ = 0;
    reshaped_ = false;
    return frozen_;
  }
  // Keys changed since the last Freeze, sorted.
  std::vector<std::string> ChangedKeys() const override {
    std::vector<std::string> keys;
    if (changed_ == 0) return keys;
    for (const Chunk& chunk : chunks_) {
      if (chunk.frozen) continue;
      for (uint32_t id : chunk.ids) {
        if (entities_[id].changed) keys.push_back(entities_[id].key);
      }
    }
    return keys;
  }
  void Clear() override {
    entities_.clear();
    chunks_.clear();
    index_.clear();
    changed_ = 0;
    reshaped_ = false;
    frozen_.reset();
  }

  static const Series* FindIn(const Rows& rows, std::string_view key) {
    // The last chunk whose first key is not above `key`.
    auto c = std::upper_bound(rows.chunks.begin(), rows.chunks.end(), key,
                              [](std::string_view k, const auto& chunk) { return k < chunk->front().first; });
    if (c == rows.chunks.begin()) return nullptr;
    const std::vector<Row>& chunk = **(c - 1);
    auto it = std::lower_bound(chunk.begin(), chunk.end(), key,
                               [](const Row& e, std::string_view k) { return e.first < k; });
    return it != chunk.end() && it->first == key ? it->second.get() : nullptr;
  }

 private:
  struct Entity {
    std::string key;
    std::shared_ptr<Series> series;
    uint32_t chunk = 0;          // its chunk's place in chunks_
    bool changed = false;        // since the last Freeze
    std::vector<int32_t> dirty;  // blocks changed since the last Persist
    // The freezes_ at which Mark last owned `series` (cow::Own): the writer's alone until
    // the next Freeze. Asking at every effect was ~20 instructions of each AddTo
    // (docs/benchmarks.md, session 30).
    uint64_t owned_at = 0;
  };
  struct Chunk {
    std::vector<uint32_t> ids;  // entities, sorted by key
    // The rows as last frozen; null: to copy at the next Freeze (a row changed or came).
    std::shared_ptr<const std::vector<Row>> frozen;
  };

  // Before AddTo changes `row`'s block `block`: the series owned (once per Freeze: only a
  // Freeze shares a series, with the rows it hands out), the block marked for the next
  // Persist, the row for the next Freeze.
  [[gnu::noinline]] void Mark(Entity& row, int32_t block) {
    if (row.owned_at != freezes_) {
      cow::Own(row.series);
      row.owned_at = freezes_;
    }
    // From the newest: most effects are of the latest days, whose block was marked last,
    // and a catch-up from scratch persists once, at its end, with every block marked (~57
    // an entity over the whole history).
    if (std::find(row.dirty.rbegin(), row.dirty.rend(), block) == row.dirty.rend()) row.dirty.push_back(block);
    if (!row.changed) {
      row.changed = true;
      ++changed_;
      chunks_[row.chunk].frozen.reset();
    }
  }

  // The entity's id (its place in entities_, for good).
  uint32_t Slot(std::string_view key) {
    if (auto it = index_.find(key); it != index_.end()) return it->second;
    // A new entity (rare: a municipality, ASL or lab seen for the first time) goes into the
    // last chunk whose first key is not above it (the first chunk when none is).
    const auto id = static_cast<uint32_t>(entities_.size());
    entities_.push_back(Entity{std::string(key), nullptr, 0, false, {}});
    index_.emplace(entities_.back().key, id);
    reshaped_ = true;
    if (chunks_.empty()) chunks_.emplace_back();
    auto at = std::upper_bound(chunks_.begin() + 1, chunks_.end(), key,
                               [&](std::string_view k, const Chunk& c) { return k < entities_[c.ids.front()].key; });
    const auto c = static_cast<uint32_t>(at - chunks_.begin() - 1);
    Chunk& chunk = chunks_[c];
    chunk.ids.insert(std::lower_bound(chunk.ids.begin(), chunk.ids.end(), key,
                                      [&](uint32_t e, std::string_view k) { return entities_[e].key < k; }),
                     id);
    chunk.frozen.reset();
    entities_[id].chunk = c;
    if (chunk.ids.size() > 2 * kChunk) Split(c);
    return id;
  }
  // Splits chunk c into two halves; the chunks after it move up by one.
  void Split(uint32_t c) {
    Chunk upper;
    upper.ids.assign(chunks_[c].ids.begin() + kChunk, chunks_[c].ids.end());
    chunks_[c].ids.resize(kChunk);
    chunks_.insert(chunks_.begin() + c + 1, std::move(upper));
    for (size_t k = c + 1; k < chunks_.size(); ++k) {
      for (uint32_t id : chunks_[k].ids) entities_[id].chunk = static_cast<uint32_t>(k);
    }
  }

  std::vector<Entity> entities_;  // by id, in the order they came
  std::vector<Chunk> chunks_;     // in key order, each holding 1 to 2 * kChunk entities
  // key -> id. A Swiss table: every effect of every event looks its municipality up here
  // (std::unordered_map's node walk was ~0.9 % of a catch-up, perf).
  absl::flat_hash_map<std::string, uint32_t, domain::StringHash, std::equal_to<>> index_;
  uint64_t freezes_ = 1;   // Freezes that made rows (Entity::owned_at)
  size_t changed_ = 0;     // entities with `changed` set
  bool reshaped_ = false;  // an entity came since the last Freeze
  std::shared_ptr<const Rows> frozen_;
};

}  // namespace caseledger::projections
