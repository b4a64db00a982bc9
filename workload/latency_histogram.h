// A latency histogram in the manner of HdrHistogram: logarithmic buckets, each split into
// 128 linear sub-buckets, so every recorded value is known to within 1/128 (< 0.8 %) in
// fixed memory (about 60 KiB) whatever the number of samples. Used by `caseledger-loadgen`,
// which records hundreds of thousands of latencies a second and cannot keep them all.
//
// Thread safety: none; give each thread its own histogram and Merge() them afterwards.
#pragma once

#include <array>
#include <cstdint>

namespace caseledger::workload {

class LatencyHistogram {
 public:
  // Records one value (nanoseconds, or any non-negative unit); negative values count as 0.
  void Record(int64_t value);
  // Adds every sample of `other` to this one.
  void Merge(const LatencyHistogram& other);

  uint64_t count() const { return count_; }
  // Exact extremes of the recorded values; 0 when empty.
  int64_t min() const { return count_ ? min_ : 0; }
  int64_t max() const { return max_; }
  // The p-th percentile (0 < p <= 100, nearest rank) as the highest value of its bucket, so
  // a reported percentile is never below the true one and at most 0.8 % above it (and
  // never above max()); 0 when empty.
  int64_t Percentile(double p) const;

 private:
  // Values below kSub have a bucket each; above, each power of two [2^k, 2^(k+1)) has kHalf.
  static constexpr int kSubBits = 8;
  static constexpr int kSub = 1 << kSubBits;
  static constexpr int kHalf = kSub / 2;  // 128
  static constexpr int kBuckets = kSub + (63 - kSubBits) * kHalf;

  static int IndexOf(uint64_t value);
  static uint64_t HighestInBucket(int index);

  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  int64_t min_ = INT64_MAX;
  int64_t max_ = 0;
};

}  // namespace caseledger::workload
