// NewUlid: a new id's 48-bit time and 80 random bits (from the thread's pool of random bytes,
// eventstore/random_bytes.h): ids made in the same millisecond, across many refills of the
// pool and in a forked child, all differ.
#include "api/api_context.h"

#include "tests/support/forked_child.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace caseledger::api {
namespace {

constexpr domain::Timestamp kNow{1'700'000'000'123'456};

TEST(NewUlidTest, IdsOfOneMillisecondShareTheTimeAndDifferInTheirRandomPart) {
  std::set<std::string> ids;
  for (int i = 0; i < 5000; ++i) ids.insert(NewUlid(kNow));  // 10 bytes each: ~12 refills of 4 KiB
  ASSERT_EQ(ids.size(), 5000u);
  const std::string first = *ids.begin();
  EXPECT_EQ(first.size(), 26u);
  // The first 10 digits are the 48-bit milliseconds; 1,700,000,000,123 ms is 01HF7YAT3V.
  for (const std::string& id : ids) {
    EXPECT_EQ(id.substr(0, 10), "01HF7YAT3V");
    EXPECT_EQ(id.find_first_not_of("0123456789ABCDEFGHJKMNPQRSTVWXYZ"), std::string::npos) << id;
  }
  EXPECT_LT(NewUlid(kNow).substr(0, 10), NewUlid({kNow.micros + 1000}).substr(0, 10));
}

TEST(NewUlidTest, AForkedChildMakesIdsOfItsOwn) {
  NewUlid(kNow);  // the pool drawn before the fork
  const auto child = testing::MadeInForkedChild([] { return NewUlid(kNow); });
  ASSERT_TRUE(child.has_value());
  ASSERT_EQ(child->size(), 26u);
  EXPECT_NE(*child, NewUlid(kNow));
}

}  // namespace
}  // namespace caseledger::api
