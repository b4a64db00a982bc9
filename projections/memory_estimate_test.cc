#include "projections/memory_estimate.h"

#include <gtest/gtest.h>

namespace caseledger::projections {
namespace {

TEST(MemoryEstimateTest, AllocatedBytesFollowJemallocSizeClasses) {
  EXPECT_EQ(AllocatedBytes(0), 0u);
  EXPECT_EQ(AllocatedBytes(1), 8u);
  EXPECT_EQ(AllocatedBytes(9), 16u);
  EXPECT_EQ(AllocatedBytes(100), 112u);
  EXPECT_EQ(AllocatedBytes(128), 128u);
  EXPECT_EQ(AllocatedBytes(129), 160u);
  EXPECT_EQ(AllocatedBytes(257), 320u);
  EXPECT_EQ(AllocatedBytes(1000), 1024u);
  EXPECT_EQ(AllocatedBytes(1025), 1280u);
  for (size_t n = 1; n < 100'000; n += 37) EXPECT_GE(AllocatedBytes(n), n) << n;
}

TEST(MemoryEstimateTest, ARecordCostsItsHistory) {
  PersonRecord r;
  r.residence_istat = "001272";
  const size_t bare = CachedRecordBytes(r);
  EXPECT_GE(bare, sizeof(PersonRecord) + sizeof(PersonKey));  // the record, the key held inline
  for (int i = 0; i < 40; ++i) r.swabs.push_back(SwabRecord{static_cast<uint64_t>(i)});
  const size_t with_swabs = CachedRecordBytes(r);
  // The last few swabs are in the record itself (SwabHistory::kTail), counted in `bare`.
  EXPECT_GE(with_swabs, bare + (40 - SwabHistory::kTail) * sizeof(SwabRecord));
  ActiveMeasure m;
  m.reason = "close_contact_at_school";  // beyond the inline characters
  r.measures.push_back(m);
  EXPECT_GE(CachedRecordBytes(r), with_swabs + sizeof(ActiveMeasure) + 24);
}

}  // namespace
}  // namespace caseledger::projections
