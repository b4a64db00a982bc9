#include "domain/time.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>

namespace caseledger::domain {
namespace {

TEST(DateTest, ParsesAndFormatsIsoDates) {
  auto d = Date::Parse("2020-10-12");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->ToString(), "2020-10-12");
  EXPECT_EQ(Date::FromYmd(1970, 1, 1).days, 0);
  EXPECT_EQ((*d + 14).ToString(), "2020-10-26");
}

// ToString writes the digits by hand for years 0-9999: every day of them reads as printf's
// "%04d-%02u-%02u" (and from 1900, the years Parse takes, parses back to the same day);
// years outside print as printf does.
TEST(DateTest, EveryDayOfYears0To9999FormatsAsPrintfAndParsesBack) {
  for (Date d = Date::FromYmd(0, 1, 1); d <= Date::FromYmd(9999, 12, 31); d = d + 1) {
    const auto ymd = d.Ymd();
    char expected[16];
    std::snprintf(expected, sizeof expected, "%04d-%02u-%02u", int(ymd.year()), unsigned(ymd.month()),
                  unsigned(ymd.day()));
    const std::string text = d.ToString();
    ASSERT_EQ(text, expected) << d.days;
    if (int(ymd.year()) >= 1900) {
      ASSERT_EQ(Date::Parse(text), d) << text;
    }
  }
  EXPECT_EQ(Date::FromYmd(10000, 1, 1).ToString(), "10000-01-01");
  EXPECT_EQ(Date::FromYmd(-1, 12, 31).ToString(), "-001-12-31");
}

TEST(DateTest, RejectsImpossibleDays) {
  EXPECT_FALSE(Date::Parse("2021-02-29"));
  EXPECT_TRUE(Date::Parse("2020-02-29"));
  EXPECT_FALSE(Date::Parse("2020-13-01"));
  EXPECT_FALSE(Date::Parse("2020-1-01"));
  EXPECT_FALSE(Date::Parse("20201001xx"));
}

TEST(TimestampTest, ParsesOffsetsAndFractions) {
  auto a = Timestamp::Parse("2020-10-12T08:30:00Z");
  auto b = Timestamp::Parse("2020-10-12T10:30:00+02:00");
  auto c = Timestamp::Parse("2020-10-12T08:30:00.250Z");
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(a->micros, b->micros);
  EXPECT_EQ(c->micros - a->micros, 250'000);
  EXPECT_EQ(c->ToString(), "2020-10-12T08:30:00.250000Z");
  EXPECT_EQ(a->ToString(), "2020-10-12T08:30:00Z");
  EXPECT_FALSE(Timestamp::Parse("2020-10-12T08:30:00"));
  EXPECT_FALSE(Timestamp::Parse("2020-10-12T25:30:00Z"));
}

TEST(TimestampTest, CivilDayFollowsItalianSummerTime) {
  // 22:30 UTC on 12 Oct 2020 is 00:30 on 13 Oct in Rome (CEST, +2).
  EXPECT_EQ(Timestamp::Parse("2020-10-12T22:30:00Z")->ToDate().ToString(), "2020-10-13");
  // 22:30 UTC on 12 Dec 2020 is 23:30 on 12 Dec in Rome (CET, +1).
  EXPECT_EQ(Timestamp::Parse("2020-12-12T22:30:00Z")->ToDate().ToString(), "2020-12-12");
  EXPECT_EQ(Timestamp::StartOfDay(*Date::Parse("2020-10-13")).ToString(), "2020-10-12T22:00:00Z");
}

// The switch instants are kept for the last year asked (per thread): asking years in turn
// must give each year's own switches. 22:30 UTC is the next civil day only in summer time.
TEST(TimestampTest, SummerTimeSwitchesHoldWhenYearsAlternate) {
  auto next_day_at_2230 = [](const char* day) {
    return Timestamp::Parse(std::string(day) + "T22:30:00Z")->ToDate() == *Date::Parse(day) + 1;
  };
  for (int round = 0; round < 2; ++round) {
    // Saturday before and Sunday of the March switch; Saturday before and Sunday of October's.
    for (auto [sat_mar, sun_mar, sat_oct, sun_oct] :
         {std::array{"2022-03-26", "2022-03-27", "2022-10-29", "2022-10-30"},
          std::array{"2020-03-28", "2020-03-29", "2020-10-24", "2020-10-25"},
          std::array{"2021-03-27", "2021-03-28", "2021-10-30", "2021-10-31"}}) {
      EXPECT_FALSE(next_day_at_2230(sat_mar)) << sat_mar;
      EXPECT_TRUE(next_day_at_2230(sun_mar)) << sun_mar;
      EXPECT_TRUE(next_day_at_2230(sat_oct)) << sat_oct;
      EXPECT_FALSE(next_day_at_2230(sun_oct)) << sun_oct;
    }
  }
}

// The switches are kept with the bounds of their year in UTC: the instants either side of
// a new year (UTC and Rome's), asked in both directions, give their own civil day.
TEST(TimestampTest, CivilDayAcrossNewYearInEitherDirection) {
  const std::pair<const char*, const char*> cases[] = {
      {"2020-12-31T22:59:59Z", "2020-12-31"}, {"2020-12-31T23:00:00Z", "2021-01-01"},
      {"2020-12-31T23:59:59Z", "2021-01-01"}, {"2021-01-01T00:00:00Z", "2021-01-01"},
      {"2021-06-30T22:00:00Z", "2021-07-01"}, {"2020-06-30T21:59:59Z", "2020-06-30"}};
  for (int round = 0; round < 2; ++round) {
    for (const auto& [at, day] : cases) EXPECT_EQ(Timestamp::Parse(at)->ToDate().ToString(), day) << at;
    for (auto it = std::rbegin(cases); it != std::rend(cases); ++it) {
      EXPECT_EQ(Timestamp::Parse(it->first)->ToDate().ToString(), it->second) << it->first;
    }
  }
}

}  // namespace
}  // namespace caseledger::domain
