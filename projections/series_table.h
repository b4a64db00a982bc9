// The working state of a view made of day series (one per entity key), with what the
// runner needs around it: dirty blocks to persist, changed keys to announce, and immutable
// snapshots to publish.
//
// Persisted entries: "<key>/<block number>" -> the block's counters (day_series.h codec).
#pragma once

#include "projections/day_series.h"
#include "projections/view.h"

#include <charconv>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace caseledger::projections {

// An immutable value readers take and writers replace. The lock is held only to copy or
// swap a pointer: a reader never waits for a batch, the writer never waits for a reader.
template <class T>
class Published {
 public:
  std::shared_ptr<const T> Get() const {
    std::lock_guard lock(mu_);
    return value_;
  }
  void Set(std::shared_ptr<const T> value) {
    {
      std::lock_guard lock(mu_);
      value_.swap(value);
    }
    // The previous value (now in `value`) is released outside the lock.
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const T> value_;
};

template <size_t N>
class SeriesTable {
 public:
  using Series = DaySeries<N>;
  // Sorted by key; entries shared with the working state until it changes them.
  using Rows = std::vector<std::pair<std::string, std::shared_ptr<const Series>>>;

  // Writer only.
  void Add(std::string_view key, domain::Date day, size_t column, int32_t delta) {
    if (delta == 0) return;
    auto& slot = Slot(key);
    CowOwn(slot.second).Add(day, column, delta);
    int32_t block = Series::BlockOf(day);
    if (last_dirty_.second != block || last_dirty_.first != key) {
      last_dirty_ = {std::string(key), block};
      dirty_.insert(last_dirty_);
    }
    if (last_changed_ != key) {
      last_changed_ = std::string(key);
      changed_.insert(last_changed_);
    }
  }
  const Series* Find(std::string_view key) const {
    auto it = Lower(key);
    return it != rows_.end() && it->first == key ? it->second.get() : nullptr;
  }

  // Writes every block changed since the last Persist.
  void Persist(PersistSink& sink) {
    std::string key;
    for (const auto& [entity, block] : dirty_) {
      const Series* s = Find(entity);
      key.assign(entity).append("/").append(std::to_string(block));
      sink.Put(key, s->EncodeBlock(block));
    }
    dirty_.clear();
    last_dirty_ = {};
  }
  bool Load(std::string_view key, std::string_view value) {
    size_t slash = key.rfind('/');
    if (slash == std::string_view::npos || slash == 0) return false;
    int32_t block = 0;
    const char* end = key.data() + key.size();
    auto [p, ec] = std::from_chars(key.data() + slash + 1, end, block);
    if (ec != std::errc() || p != end) return false;
    return CowOwn(Slot(key.substr(0, slash)).second).LoadBlock(block, value);
  }

  // The rows as they are now, for a snapshot; clears the changed keys.
  std::shared_ptr<const Rows> Freeze() {
    if (!frozen_ || !changed_.empty() || rows_.size() != frozen_->size()) {
      auto rows = std::make_shared<Rows>();
      rows->reserve(rows_.size());
      for (const auto& [k, v] : rows_) rows->emplace_back(k, v);
      frozen_ = std::move(rows);
    }
    changed_.clear();
    last_changed_.clear();
    return frozen_;
  }
  std::vector<std::string> ChangedKeys() const { return {changed_.begin(), changed_.end()}; }
  void Clear() {
    rows_.clear();
    dirty_.clear();
    changed_.clear();
    last_dirty_ = {};
    last_changed_.clear();
    frozen_.reset();
  }

  static const Series* FindIn(const Rows& rows, std::string_view key) {
    auto it = std::lower_bound(rows.begin(), rows.end(), key,
                               [](const auto& e, std::string_view k) { return e.first < k; });
    return it != rows.end() && it->first == key ? it->second.get() : nullptr;
  }

 private:
  using Row = std::pair<std::string, std::shared_ptr<Series>>;
  typename std::vector<Row>::iterator Lower(std::string_view key) {
    return std::lower_bound(rows_.begin(), rows_.end(), key,
                            [](const Row& e, std::string_view k) { return e.first < k; });
  }
  typename std::vector<Row>::const_iterator Lower(std::string_view key) const {
    return std::lower_bound(rows_.begin(), rows_.end(), key,
                            [](const Row& e, std::string_view k) { return e.first < k; });
  }
  Row& Slot(std::string_view key) {
    auto it = Lower(key);
    if (it == rows_.end() || it->first != key) it = rows_.insert(it, Row{std::string(key), nullptr});
    return *it;
  }

  std::vector<Row> rows_;
  std::set<std::pair<std::string, int32_t>> dirty_;
  std::pair<std::string, int32_t> last_dirty_{};
  std::set<std::string, std::less<>> changed_;
  std::string last_changed_;
  std::shared_ptr<const Rows> frozen_;
};

}  // namespace caseledger::projections
