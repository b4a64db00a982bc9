#include "projections/lab_turnaround.h"

#include <cmath>

namespace caseledger::projections {
namespace {

// Bands of equal-width buckets: [from, to) minutes in steps of `width`.
struct Band {
  int64_t from, to, width;
};
constexpr std::array<Band, 4> kBands = {{
    {0, 6 * 60, 30},
    {6 * 60, 48 * 60, 60},
    {48 * 60, 96 * 60, 180},
    {96 * 60, 14 * 24 * 60, 720},
}};
constexpr int64_t kLast = 14 * 24 * 60;

constexpr int BandStart(size_t band) {
  int start = 0;
  for (size_t i = 0; i < band; ++i) start += static_cast<int>((kBands[i].to - kBands[i].from) / kBands[i].width);
  return start;
}
static_assert(BandStart(kBands.size()) + 1 == kTurnaroundBuckets);

}  // namespace

int TurnaroundBucket(int64_t minutes) {
  if (minutes < 0) minutes = 0;
  for (size_t b = 0; b < kBands.size(); ++b) {
    if (minutes < kBands[b].to) {
      return BandStart(b) + static_cast<int>((minutes - kBands[b].from) / kBands[b].width);
    }
  }
  return kTurnaroundBuckets - 1;
}

int64_t TurnaroundBucketLimit(int bucket) {
  for (size_t b = 0; b < kBands.size(); ++b) {
    int end = BandStart(b + 1);
    if (bucket < end) return kBands[b].from + (bucket - BandStart(b) + 1) * kBands[b].width;
  }
  return kLast;
}

std::optional<int64_t> TurnaroundQuantile(const std::array<int64_t, kTurnaroundBuckets>& counts, double q) {
  int64_t n = 0;
  for (int64_t c : counts) n += c;
  if (n == 0) return std::nullopt;
  int64_t rank = static_cast<int64_t>(std::ceil(q * static_cast<double>(n)));
  if (rank < 1) rank = 1;
  int64_t seen = 0;
  for (int b = 0; b < kTurnaroundBuckets; ++b) {
    seen += counts[b];
    if (seen >= rank) return TurnaroundBucketLimit(b);
  }
  return TurnaroundBucketLimit(kTurnaroundBuckets - 1);
}

}  // namespace caseledger::projections
