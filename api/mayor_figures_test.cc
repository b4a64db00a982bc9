// A mayor's answer depends on the bands of its municipality's series only: two random small
// towns whose series agree band for band read the same, byte for byte, whatever the reading.
#include "api/mayor_figures.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace caseledger::api {
namespace {

namespace json = boost::json;

int64_t Band(int64_t x) { return (x / kMayorBand) * kMayorBand; }

// One small town's exact series, day by day, as the municipality view keeps them.
struct Town {
  std::vector<int64_t> cumulative, recovered, deceased, positive, isolations, quarantines, molecular, antigen;
  int64_t population = 42;
};

Town RandomTown(std::mt19937_64& rng, int days) {
  Town t;
  t.population = 20 + static_cast<int64_t>(rng() % 400);
  auto up = [&](std::vector<int64_t>& s, int chance) {
    int64_t last = s.empty() ? 0 : s.back();
    s.push_back(last + (static_cast<int>(rng() % 100) < chance ? static_cast<int64_t>(rng() % 3) : 0));
  };
  for (int d = 0; d < days; ++d) {
    up(t.cumulative, 30);
    up(t.recovered, 15);
    up(t.deceased, 3);
    t.positive.push_back(static_cast<int64_t>(rng() % 8));
    t.isolations.push_back(static_cast<int64_t>(rng() % 6));
    t.quarantines.push_back(static_cast<int64_t>(rng() % 9));
    t.molecular.push_back(static_cast<int64_t>(rng() % 7));
    t.antigen.push_back(static_cast<int64_t>(rng() % 5));
  }
  return t;
}

// Another town whose every series has the same bands on every day (and whose cumulative
// series still never decreases): what a mayor must not be able to tell apart.
Town SameBands(std::mt19937_64& rng, const Town& t) {
  Town u = t;
  auto within = [&](int64_t x, int64_t at_least) {
    int64_t lo = std::max(Band(x), at_least), hi = Band(x) + kMayorBand - 1;
    return lo + static_cast<int64_t>(rng() % static_cast<uint64_t>(hi - lo + 1));
  };
  auto monotone = [&](std::vector<int64_t>& s) {
    int64_t last = 0;
    for (auto& x : s) last = x = within(x, last);
  };
  monotone(u.cumulative);
  monotone(u.recovered);
  monotone(u.deceased);
  for (auto* s : {&u.positive, &u.isolations, &u.quarantines, &u.molecular, &u.antigen}) {
    for (auto& x : *s) x = within(x, 0);
  }
  return u;
}

int64_t At(const std::vector<int64_t>& s, int d) { return d < 0 ? 0 : s[static_cast<size_t>(d)]; }

json::object Figures(const Town& t, int d) {
  json::object o;
  o["active_isolations"] = At(t.isolations, d);
  o["active_quarantines"] = At(t.quarantines, d);
  o["currently_positive"] = At(t.positive, d);
  o["cumulative_cases"] = At(t.cumulative, d);
  o["recovered"] = At(t.recovered, d);
  o["deceased"] = At(t.deceased, d);
  o["new_positives"] = At(t.cumulative, d) - At(t.cumulative, d - 1);
  o["swabs_molecular"] = At(t.molecular, d);
  o["swabs_antigen"] = At(t.antigen, d);
  o["new_positives_7d"] = At(t.cumulative, d) - At(t.cumulative, d - 7);
  o["incidence_7d_per_100k"] = static_cast<double>(At(t.cumulative, d) - At(t.cumulative, d - 7)) * 1e5 / t.population;
  return o;
}

// The exact answer of the view for a reading of day `day` with rows from..to.
json::object Answer(const Town& t, int day, int from, int to) {
  json::object o = Figures(t, day);
  o["istat"] = "001999";
  o["population"] = t.population;
  json::array daily;
  for (int d = from; d <= to; ++d) daily.push_back(Figures(t, d));
  o["daily"] = std::move(daily);
  return o;
}

std::string Mayor(json::object answer) {
  BandForMayor(answer);
  return json::serialize(answer);
}

TEST(MayorFiguresTest, TownsWithTheSameBandsReadTheSameWhateverTheReadings) {
  std::mt19937_64 rng(20261202);
  constexpr int kDays = 40;
  for (int trial = 0; trial < 300; ++trial) {
    Town a = RandomTown(rng, kDays);
    Town b = SameBands(rng, a);
    for (int reading = 0; reading < 12; ++reading) {
      int day = static_cast<int>(rng() % kDays);
      int from = static_cast<int>(rng() % (day + 1));
      ASSERT_EQ(Mayor(Answer(a, day, from, day)), Mayor(Answer(b, day, from, day)))
          << "trial " << trial << " day " << day << " from " << from;
    }
  }
}

// The audit's reading: a town of 42 whose cumulative cases go 3 -> 4 on a day. The mayor
// reads that day and the day before exactly as for a town with no case that day.
TEST(MayorFiguresTest, OneNewCaseIsNotToldByTheCumulativeOfTwoDays) {
  Town one;
  one.population = 42;
  one.cumulative = {3, 3, 4};
  for (auto* s : {&one.recovered, &one.deceased, &one.positive, &one.isolations, &one.quarantines, &one.molecular,
                  &one.antigen}) {
    *s = {0, 0, 0};
  }
  one.positive = {3, 3, 4};
  Town none = one;
  none.cumulative = {3, 3, 3};
  none.positive = {3, 3, 3};
  for (int day : {1, 2}) EXPECT_EQ(Mayor(Answer(one, day, 0, day)), Mayor(Answer(none, day, 0, day)));
  json::object read = Answer(one, 2, 2, 2);
  BandForMayor(read);
  EXPECT_EQ(read.at("cumulative_cases").as_int64(), 3);
  EXPECT_TRUE(read.at("new_positives").is_null());  // "< 3", the same as for 0
  EXPECT_EQ(read.at("rounded_to").as_int64(), kMayorBand);
}

// Zero reads as "< 3", so null beside 0 no longer tells "1 or 2".
TEST(MayorFiguresTest, ZeroAndSmallCountsReadTheSame) {
  for (int64_t n : {0, 1, 2}) {
    json::object o{{"active_quarantines", n}, {"swabs_antigen", n}};
    BandForMayor(o);
    EXPECT_TRUE(o.at("active_quarantines").is_null()) << n;
    EXPECT_TRUE(o.at("swabs_antigen").is_null()) << n;
  }
  json::object o{{"active_quarantines", 5}, {"deceased", 7}};
  BandForMayor(o);
  EXPECT_EQ(o.at("active_quarantines").as_int64(), 3);
  EXPECT_EQ(o.at("deceased").as_int64(), 6);
}

}  // namespace
}  // namespace caseledger::api
