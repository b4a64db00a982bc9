// Turnaround (swab collection -> result report) in a bounded histogram: 91 buckets whose
// width grows with the delay, so a lab-day costs the same whatever its volume and the
// median/p90 are read with a known resolution: 30 minutes below 6 hours, 1 hour to 48
// hours, 3 hours to 96 hours, 12 hours to 14 days; everything later is one bucket.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

namespace caseledger::projections {

inline constexpr int kTurnaroundBuckets = 91;

// Bucket of a delay in minutes (negative delays count as 0).
int TurnaroundBucket(int64_t minutes);
// Upper bound of a bucket in minutes (exclusive); for the last bucket, its lower bound
// (14 days), since it has none.
int64_t TurnaroundBucketLimit(int bucket);

// The delay at quantile q (0 < q <= 1; nearest rank: the ceil(q * n)-th smallest), reported
// as its bucket's TurnaroundBucketLimit; nullopt when the histogram is empty.
std::optional<int64_t> TurnaroundQuantile(const std::array<int64_t, kTurnaroundBuckets>& counts, double q);

}  // namespace caseledger::projections
