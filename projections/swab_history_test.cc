// SwabHistory against a std::vector<SwabRecord> (what it replaces): the same swabs after any
// sequence of appends and changes, whatever copies are held meanwhile (a copy never sees
// a change made after it), and the same bytes when encoded.
#include "projections/swab_history.h"

#include "domain/bounded_archive.h"
#include "domain/string_archive.h"

#include <cereal/types/vector.hpp>
#include <gtest/gtest.h>

#include <random>

namespace caseledger::projections {
namespace {

void ExpectSame(const SwabHistory& h, const std::vector<SwabRecord>& v) {
  ASSERT_EQ(h.size(), v.size());
  size_t i = 0;
  for (const SwabRecord& s : h) {
    EXPECT_EQ(s, v[i]) << i;
    EXPECT_EQ(h[i], v[i]) << i;
    ++i;
  }
  EXPECT_EQ(i, v.size());
}

TEST(SwabHistoryTest, FindLastIndexIsTheLastMatchAcrossTheSharedPrefixAndTheTail) {
  // Kinds alternate so that every kind matches several swabs: the last one is wanted, in
  // the tail or (after a copy seals the prefix) in the prefix, as a scan of the vector from
  // its end finds it.
  std::mt19937_64 rng(16);
  for (int round = 0; round < 30; ++round) {
    SwabHistory h;
    std::vector<SwabRecord> v;
    std::vector<SwabHistory> copies;  // keep prefixes shared
    const int n = 1 + static_cast<int>(rng() % 40);
    for (int i = 0; i < n; ++i) {
      SwabRecord s;
      s.id_hash = rng() % 5;
      h.push_back(s);
      v.push_back(s);
      if (rng() % 4 == 0) copies.push_back(h);
    }
    for (uint64_t want = 0; want < 6; ++want) {
      size_t expected = v.size();
      for (size_t i = v.size(); i-- > 0;) {
        if (v[i].id_hash == want) {
          expected = i;
          break;
        }
      }
      EXPECT_EQ(h.FindLastIndex([&](const SwabRecord& s) { return s.id_hash == want; }), expected)
          << "round " << round << ", hash " << want;
    }
  }
}

TEST(SwabHistoryTest, CopiesDoNotSeeLaterChanges) {
  std::mt19937_64 rng(14);
  for (int round = 0; round < 40; ++round) {
    SwabHistory h;
    std::vector<SwabRecord> v;
    // Copies taken along the way and what they held then.
    std::vector<std::pair<SwabHistory, std::vector<SwabRecord>>> copies;
    for (int step = 0; step < 400; ++step) {
      const int op = static_cast<int>(rng() % 10);
      if (op < 3 || v.empty()) {
        SwabRecord s;
        s.id_hash = rng();
        s.kind = rng() % 2 ? domain::SwabKind::kAntigen : domain::SwabKind::kMolecular;
        h.push_back(s);
        v.push_back(s);
      } else {
        // Mostly the recent swabs, sometimes one far back (a correction).
        const size_t back = op < 8 ? rng() % std::min<size_t>(v.size(), 4) : rng() % v.size();
        const size_t i = v.size() - 1 - back;
        SwabRecord& s = h.Mutable(i);
        ASSERT_EQ(s, v[i]);
        s.collected = true;
        s.collected_at = static_cast<int64_t>(rng() % 1'000'000);
        s.outcome = static_cast<uint8_t>(rng() % 3);
        v[i] = s;
      }
      ExpectSame(h, v);
      if (rng() % 3 == 0) copies.emplace_back(h, v);
      if (copies.size() > 6) copies.erase(copies.begin() + static_cast<long>(rng() % copies.size()));
      for (const auto& [copy, was] : copies) ExpectSame(copy, was);
    }
    EXPECT_EQ(h, SwabHistory(v));
  }
}

TEST(SwabHistoryTest, EncodedAsTheVector) {
  std::vector<SwabRecord> v;
  SwabHistory h, copy;
  for (uint64_t i = 0; i < 30; ++i) {
    SwabRecord s;
    s.id_hash = i * 7919;
    s.reported_day = static_cast<int32_t>(i);
    s.outcome = static_cast<uint8_t>(i % 3);
    v.push_back(s);
    h.push_back(s);
    if (i == 20) copy = h;  // shares the prefix
    EXPECT_EQ(domain::EncodeCereal(h), domain::EncodeCereal(v)) << i;
    SwabHistory back;
    ASSERT_TRUE(domain::DecodeCereal(domain::EncodeCereal(v), back));
    EXPECT_EQ(back, h);
    ExpectSame(back, v);
  }
  h.Mutable(2).outcome = 1;  // in the shared prefix
  v[2].outcome = 1;
  EXPECT_EQ(domain::EncodeCereal(h), domain::EncodeCereal(v));
  EXPECT_EQ(copy.size(), 21u);
  EXPECT_NE(copy[2].outcome, 1);
}

}  // namespace
}  // namespace caseledger::projections
