// Calendar dates and instants. Dates are civil days in Europe/Rome as given by users;
// instants are UTC microseconds since the Unix epoch.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace caseledger::domain {

// A civil date, stored as days since 1970-01-01.
struct Date {
  int32_t days = 0;

  static Date FromYmd(int y, unsigned m, unsigned d);
  // Parses "YYYY-MM-DD"; nullopt if malformed or not a real calendar day.
  static std::optional<Date> Parse(std::string_view text);
  std::string ToString() const;  // "YYYY-MM-DD"
  std::chrono::year_month_day Ymd() const;

  Date operator+(int32_t n) const { return Date{days + n}; }
  int32_t operator-(Date other) const { return days - other.days; }
  auto operator<=>(const Date&) const = default;

  template <class Archive>
  void serialize(Archive& ar) {
    ar(days);
  }
};

// An instant: microseconds since the Unix epoch, UTC.
struct Timestamp {
  int64_t micros = 0;

  // Parses RFC 3339 ("2020-10-12T08:30:00Z", "...+02:00", fractional seconds allowed).
  static std::optional<Timestamp> Parse(std::string_view text);
  std::string ToString() const;  // RFC 3339 in UTC with microseconds when non-zero
  // The civil day of this instant in Italy (CET/CEST, EU summer-time rule).
  Date ToDate() const;
  // The instant at local midnight (Italy) that starts day `d`.
  static Timestamp StartOfDay(Date d);

  auto operator<=>(const Timestamp&) const = default;

  template <class Archive>
  void serialize(Archive& ar) {
    ar(micros);
  }
};

// How far in the future an effective date or instant may be (clock skew between the
// collection site and the server).
inline constexpr int64_t kMaxClockSkewMicros = 5LL * 60 * 1'000'000;
// How far a collection site's clock may put a sample before the registry recorded its request.
inline constexpr int64_t kCollectionSkewMicros = 15LL * 60 * 1'000'000;

}  // namespace caseledger::domain
