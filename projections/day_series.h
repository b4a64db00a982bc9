// Per-day counters of one entity (a municipality, an ASL, a lab) as deltas by effective
// day, kept in blocks of 32 days that are shared copy-on-write with published snapshots:
// changing a day copies only its block (and only the first time after a publish), so a
// batch costs what it touches, not the length of the history.
//
// A flow (swabs of a day) is read as the delta of its day; a level (open cases on a day)
// as the running sum of the deltas up to that day; a cumulative column likewise.
#pragma once

#include "domain/time.h"
#include "projections/cow.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace caseledger::projections {

// Block codec (FORMAT.md, "Day-series views"): format byte 0x02, then the values as zigzag
// varints, where a zero is followed by a varint count of the zeros right after it (a run
// of k zeros: 0x00, k - 1). Most of a block is zeros: a lab's block of 96 columns was 3 KiB
// as a byte per value (format 0x01, still read), rewritten into the views database at
// every live batch that touched the lab.
std::string EncodeCounters(const int32_t* values, size_t count);
bool DecodeCounters(std::string_view bytes, int32_t* values, size_t count);

template <size_t N>
class DaySeries {
 public:
  static constexpr int32_t kBlockDays = 32;
  using Row = std::array<int32_t, N>;
  using Block = std::array<Row, kBlockDays>;

  DaySeries() = default;
  // A copy shares every block with the original (each copied on its first change, on
  // either side): neither owns a block any more. The original forgets its kept block
  // (owned_, which no reader reads), so that its next Add asks again whether it is shared.
  DaySeries(const DaySeries& o) : blocks_(o.blocks_), totals_(o.totals_) { o.owned_ = nullptr; }
  DaySeries& operator=(const DaySeries& o) {
    blocks_ = o.blocks_;
    totals_ = o.totals_;
    owned_ = nullptr;
    o.owned_ = nullptr;
    return *this;
  }

  static int32_t BlockOf(domain::Date day) {
    return day.days >= 0 ? day.days / kBlockDays : -((-day.days + kBlockDays - 1) / kBlockDays);
  }

  // Adds `delta` to `column` on `day`. Writer only.
  void Add(domain::Date day, size_t column, int32_t delta) {
    const int32_t b = BlockOf(day);
    Block& block = owned_ != nullptr && owned_number_ == b ? *owned_ : OwnBlock(b);
    block[day.days - b * kBlockDays][column] += delta;
    totals_[column] += delta;
  }

  // The deltas of one day (zeros when nothing happened).
  Row At(domain::Date day) const {
    const Block* block = Find(BlockOf(day));
    return block ? (*block)[day.days - BlockOf(day) * kBlockDays] : Row{};
  }
  // Sum of the deltas of `column` over [from, to].
  int64_t Sum(size_t column, domain::Date from, domain::Date to) const {
    int64_t sum = 0;
    for (const auto& [b, block] : blocks_) {
      int32_t first = b * kBlockDays;
      if (first > to.days || first + kBlockDays <= from.days) continue;
      for (int32_t i = std::max(0, from.days - first); i < kBlockDays && first + i <= to.days; ++i) {
        sum += (*block)[i][column];
      }
    }
    return sum;
  }
  // Running sum of `column` up to and including `day`: the total minus what lies after it
  // (cheap for recent days, the usual question).
  int64_t Level(size_t column, domain::Date day) const {
    if (blocks_.empty()) return 0;
    return totals_[column] - Sum(column, day + 1, LastDay());
  }
  std::array<int64_t, N> Levels(domain::Date day) const {
    std::array<int64_t, N> v = totals_;
    for (auto it = blocks_.rbegin(); it != blocks_.rend() && (it->first + 1) * kBlockDays > day.days + 1; ++it) {
      int32_t first = it->first * kBlockDays;
      for (int32_t i = std::max(0, day.days + 1 - first); i < kBlockDays; ++i) {
        for (size_t c = 0; c < N; ++c) v[c] -= (*it->second)[i][c];
      }
    }
    return v;
  }
  // Calls visit(day, deltas of the day, levels up to and including the day) for every day
  // of [from, to], days without events included.
  template <class F>
  void Walk(domain::Date from, domain::Date to, F&& visit) const {
    std::array<int64_t, N> levels = Levels(from + -1);
    auto it = std::lower_bound(blocks_.begin(), blocks_.end(), BlockOf(from),
                               [](const auto& e, int32_t n) { return e.first < n; });
    for (domain::Date d = from; d <= to; d = d + 1) {
      int32_t b = BlockOf(d);
      while (it != blocks_.end() && it->first < b) ++it;
      Row row = it != blocks_.end() && it->first == b ? (*it->second)[d.days - b * kBlockDays] : Row{};
      for (size_t c = 0; c < N; ++c) levels[c] += row[c];
      visit(d, row, levels);
    }
  }
  int64_t Total(size_t column) const { return totals_[column]; }
  bool empty() const { return blocks_.empty(); }
  // First and last day of the blocks held (a block may hold only zeros at its ends).
  domain::Date FirstDay() const { return {blocks_.front().first * kBlockDays}; }
  domain::Date LastDay() const { return {blocks_.back().first * kBlockDays + kBlockDays - 1}; }
  // First day with a non-zero delta; nullopt when none.
  std::optional<domain::Date> FirstActiveDay() const {
    for (const auto& [b, block] : blocks_) {
      for (int32_t i = 0; i < kBlockDays; ++i) {
        for (int32_t v : (*block)[i]) {
          if (v != 0) return domain::Date{b * kBlockDays + i};
        }
      }
    }
    return std::nullopt;
  }

  std::string EncodeBlock(int32_t b) const {
    const Block* block = Find(b);
    Block zeros{};
    return EncodeCounters((block ? block : &zeros)->front().data(), N * kBlockDays);
  }
  bool LoadBlock(int32_t b, std::string_view bytes) {
    auto block = std::make_shared<Block>();
    if (!DecodeCounters(bytes, block->front().data(), N * kBlockDays)) return false;
    auto it = std::lower_bound(blocks_.begin(), blocks_.end(), b,
                               [](const auto& e, int32_t n) { return e.first < n; });
    if (it != blocks_.end() && it->first == b) return false;  // twice
    for (const Row& row : *block) {
      for (size_t c = 0; c < N; ++c) totals_[c] += row[c];
    }
    blocks_.insert(it, {b, std::move(block)});
    return true;
  }

 private:
  // Block b, made or copied if need be (cow::Own), kept as owned_. Apart from Add, and not
  // inlined into it, so that Add and its callers (SeriesTable::AddTo) stay a few
  // instructions each, inlined where they are called: the calls' frames were ~35
  // instructions of each AddTo (docs/benchmarks.md, session 30).
  [[gnu::noinline]] Block& OwnBlock(int32_t b) {
    auto it = std::lower_bound(blocks_.begin(), blocks_.end(), b,
                               [](const auto& e, int32_t n) { return e.first < n; });
    if (it == blocks_.end() || it->first != b) it = blocks_.insert(it, {b, nullptr});
    owned_ = &cow::Own(it->second);
    owned_number_ = b;
    return *owned_;
  }

  const Block* Find(int32_t b) const {
    auto it = std::lower_bound(blocks_.begin(), blocks_.end(), b,
                               [](const auto& e, int32_t n) { return e.first < n; });
    return it != blocks_.end() && it->first == b ? it->second.get() : nullptr;
  }

  std::vector<std::pair<int32_t, std::shared_ptr<Block>>> blocks_;  // by block number
  std::array<int64_t, N> totals_{};
  // The block Add changed last (number owned_number_), this series' own since: Add changes
  // it again without finding it or asking whether it is shared. Only a copy of the series
  // shares its blocks, and a copy clears it on both sides. Why: most effects of a catch-up
  // fall in the latest block, and finding and owning it was about half of each Add (~50
  // instructions; docs/benchmarks.md, session 30). Mutable: a copy made from a const series.
  mutable Block* owned_ = nullptr;
  int32_t owned_number_ = 0;
};

}  // namespace caseledger::projections
