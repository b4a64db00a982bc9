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
#include <charconv>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace caseledger::projections {

template <size_t N>
class SeriesTable : public KeyedTable {
 public:
  using Series = DaySeries<N>;
  // Sorted by key; entries shared with the working state until it changes them.
  using Rows = std::vector<std::pair<std::string, std::shared_ptr<const Series>>>;

  // Writer only. What changed is marked on the entity's row (no set to insert into per
  // event: this runs for every effect of every event of a rebuild).
  void Add(std::string_view key, domain::Date day, size_t column, int32_t delta) {
    if (delta == 0) return;
    Row& row = Slot(key);
    cow::Own(row.series).Add(day, column, delta);
    const int32_t block = Series::BlockOf(day);
    if (std::find(row.dirty.begin(), row.dirty.end(), block) == row.dirty.end()) row.dirty.push_back(block);
    if (!row.changed) {
      row.changed = true;
      ++changed_;
    }
  }
  const Series* Find(std::string_view key) const {
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : rows_[it->second].series.get();
  }

  // Writes every block changed since the last Persist.
  void Persist(PersistSink& sink) override {
    std::string key;
    for (Row& row : rows_) {
      for (int32_t block : row.dirty) {
        key.assign(row.key).append("/").append(std::to_string(block));
        sink.Put(key, row.series->EncodeBlock(block));
      }
      row.dirty.clear();
    }
  }
  bool Load(std::string_view key, std::string_view value) override {
    size_t slash = key.rfind('/');
    if (slash == std::string_view::npos || slash == 0) return false;
    int32_t block = 0;
    const char* end = key.data() + key.size();
    auto [p, ec] = std::from_chars(key.data() + slash + 1, end, block);
    if (ec != std::errc() || p != end) return false;
    return cow::Own(Slot(key.substr(0, slash)).series).LoadBlock(block, value);
  }

  // KeyedTable::Freeze: a Rows.
  std::shared_ptr<const void> Freeze() override { return FreezeRows(); }
  // The rows as they are now, for a snapshot; clears the changed keys.
  std::shared_ptr<const Rows> FreezeRows() {
    if (!frozen_ || changed_ > 0 || rows_.size() != frozen_->size()) {
      auto rows = std::make_shared<Rows>();
      rows->reserve(rows_.size());
      for (Row& row : rows_) {
        rows->emplace_back(row.key, row.series);
        row.changed = false;
      }
      frozen_ = std::move(rows);
    }
    changed_ = 0;
    return frozen_;
  }
  // Keys changed since the last Freeze, sorted.
  std::vector<std::string> ChangedKeys() const override {
    std::vector<std::string> keys;
    if (changed_ == 0) return keys;
    for (const Row& row : rows_) {
      if (row.changed) keys.push_back(row.key);
    }
    return keys;
  }
  void Clear() override {
    rows_.clear();
    index_.clear();
    changed_ = 0;
    frozen_.reset();
  }

  static const Series* FindIn(const Rows& rows, std::string_view key) {
    auto it = std::lower_bound(rows.begin(), rows.end(), key,
                               [](const auto& e, std::string_view k) { return e.first < k; });
    return it != rows.end() && it->first == key ? it->second.get() : nullptr;
  }

 private:
  struct Row {
    std::string key;
    std::shared_ptr<Series> series;
    bool changed = false;        // since the last Freeze
    std::vector<int32_t> dirty;  // blocks changed since the last Persist
  };

  Row& Slot(std::string_view key) {
    if (auto it = index_.find(key); it != index_.end()) return rows_[it->second];
    auto at = std::lower_bound(rows_.begin(), rows_.end(), key,
                               [](const Row& e, std::string_view k) { return e.key < k; });
    const size_t i = static_cast<size_t>(at - rows_.begin());
    rows_.insert(at, Row{std::string(key), nullptr, false, {}});
    // A new entity (rare: a municipality, ASL or lab seen for the first time) shifts the
    // rows after it.
    for (size_t j = i + 1; j < rows_.size(); ++j) index_.find(rows_[j].key)->second = j;
    index_.emplace(rows_[i].key, i);
    return rows_[i];
  }

  std::vector<Row> rows_;  // sorted by key
  // key -> row. A Swiss table: every effect of every event looks its municipality up here
  // (std::unordered_map's node walk was ~0.9 % of a catch-up, perf).
  absl::flat_hash_map<std::string, size_t, domain::StringHash, std::equal_to<>> index_;
  size_t changed_ = 0;     // rows with `changed` set
  std::shared_ptr<const Rows> frozen_;
};

}  // namespace caseledger::projections
