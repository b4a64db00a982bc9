#include "workload/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace caseledger::workload {

int LatencyHistogram::IndexOf(uint64_t value) {
  if (value < kSub) return static_cast<int>(value);
  // shift >= 1 puts the top kSubBits bits of value in [kHalf, kSub).
  int shift = std::bit_width(value) - kSubBits;
  auto top = static_cast<int>(value >> shift);
  return kSub + (shift - 1) * kHalf + (top - kHalf);
}

uint64_t LatencyHistogram::HighestInBucket(int index) {
  if (index < kSub) return static_cast<uint64_t>(index);
  int i = index - kSub;
  int shift = i / kHalf + 1;
  uint64_t lowest = static_cast<uint64_t>(i % kHalf + kHalf) << shift;
  return lowest + (uint64_t{1} << shift) - 1;
}

void LatencyHistogram::Record(int64_t value) {
  value = std::max<int64_t>(value, 0);
  ++counts_[IndexOf(static_cast<uint64_t>(value))];
  ++count_;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (int i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

int64_t LatencyHistogram::Percentile(double p) const {
  if (count_ == 0) return 0;
  auto rank = static_cast<uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(static_cast<int64_t>(HighestInBucket(i)), max_);
  }
  return max_;
}

}  // namespace caseledger::workload
