#include "domain/time.h"

#include <charconv>
#include <cstdio>

namespace caseledger::domain {
namespace {

using namespace std::chrono;

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kMicrosPerDay = 86'400 * kMicrosPerSecond;

bool ParseInt(std::string_view text, size_t pos, size_t len, int& out) {
  if (pos + len > text.size()) return false;
  for (size_t i = pos; i < pos + len; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  auto r = std::from_chars(text.data() + pos, text.data() + pos + len, out);
  return r.ec == std::errc{};
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Last Sunday of `month` in `year`, at 01:00 UTC: the EU summer-time switch instant.
int64_t EuSwitchMicros(int year, unsigned month) {
  sys_days last{year_month_day_last{std::chrono::year{year}, month_day_last{std::chrono::month{month}}}};
  weekday wd{last};
  sys_days sunday = last - (wd - Sunday);
  return int64_t{sunday.time_since_epoch().count()} * kMicrosPerDay + 3600 * kMicrosPerSecond;
}

// Offset of Italian civil time from UTC at instant `micros` (UTC).
int64_t RomeOffsetMicros(int64_t micros) {
  // The year's two switch instants, kept per thread for the last year asked with the
  // year's bounds: consecutive calls nearly always fall in the same year (the switches were
  // ~3 % of the bulk load's generator, callgrind; the year's civil date from the day count,
  // 1.5 % of a catch-up of the views, perf).
  struct Summer {
    int64_t begin = 0, end = 0;  // [1 January, next 1 January) 00:00 UTC of the year
    int64_t from = 0, to = 0;
    bool known = false;
  };
  thread_local Summer summer;
  if (!summer.known || micros < summer.begin || micros >= summer.end) {
    const auto year = year_month_day{sys_days{days{FloorDiv(micros, kMicrosPerDay)}}}.year();
    const auto first = [](std::chrono::year y) {
      return int64_t{sys_days{y / std::chrono::January / 1}.time_since_epoch().count()} * kMicrosPerDay;
    };
    summer = {first(year), first(year + std::chrono::years{1}), EuSwitchMicros(int(year), 3),
              EuSwitchMicros(int(year), 10), true};
  }
  bool in_summer = micros >= summer.from && micros < summer.to;
  return (in_summer ? 2 : 1) * 3600 * kMicrosPerSecond;
}

}  // namespace

Date Date::FromYmd(int y, unsigned m, unsigned d) {
  sys_days sd{year_month_day{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}}};
  return Date{static_cast<int32_t>(sd.time_since_epoch().count())};
}

std::optional<Date> Date::Parse(std::string_view text) {
  int y, m, d;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  if (!ParseInt(text, 0, 4, y) || !ParseInt(text, 5, 2, m) || !ParseInt(text, 8, 2, d)) {
    return std::nullopt;
  }
  year_month_day ymd{std::chrono::year{y}, std::chrono::month{unsigned(m)}, std::chrono::day{unsigned(d)}};
  if (!ymd.ok() || y < 1900) return std::nullopt;
  return FromYmd(y, unsigned(m), unsigned(d));
}

year_month_day Date::Ymd() const { return year_month_day{sys_days{std::chrono::days{days}}}; }

std::string Date::ToString() const {
  auto ymd = Ymd();
  const int year = int(ymd.year());
  const unsigned month = unsigned(ymd.month()), day = unsigned(ymd.day());
  if (year < 0 || year > 9999) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", year, month, day);
    return buf;
  }
  // The digits by hand: snprintf took ~2,000 instructions a date, a tenth of the bulk
  // load's generator (a swab id and a birth date per registration, callgrind).
  std::string out(10, '-');
  out[0] = char('0' + year / 1000);
  out[1] = char('0' + year / 100 % 10);
  out[2] = char('0' + year / 10 % 10);
  out[3] = char('0' + year % 10);
  out[5] = char('0' + month / 10);
  out[6] = char('0' + month % 10);
  out[8] = char('0' + day / 10);
  out[9] = char('0' + day % 10);
  return out;
}

std::optional<Timestamp> Timestamp::Parse(std::string_view t) {
  // YYYY-MM-DDTHH:MM:SS[.ffffff](Z|+HH:MM|-HH:MM)
  if (t.size() < 20) return std::nullopt;
  auto date = Date::Parse(t.substr(0, 10));
  if (!date || (t[10] != 'T' && t[10] != 't' && t[10] != ' ')) return std::nullopt;
  int hh, mm, ss;
  if (!ParseInt(t, 11, 2, hh) || t[13] != ':' || !ParseInt(t, 14, 2, mm) || t[16] != ':' ||
      !ParseInt(t, 17, 2, ss) || hh > 23 || mm > 59 || ss > 60) {
    return std::nullopt;
  }
  size_t pos = 19;
  int64_t frac = 0;
  if (pos < t.size() && t[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') {
      if (digits < 6) frac = frac * 10 + (t[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0 || digits > 9) return std::nullopt;
    for (int i = digits; i < 6; ++i) frac *= 10;
  }
  int64_t offset = 0;
  if (pos < t.size() && (t[pos] == 'Z' || t[pos] == 'z')) {
    ++pos;
  } else if (pos < t.size() && (t[pos] == '+' || t[pos] == '-')) {
    int oh, om;
    if (!ParseInt(t, pos + 1, 2, oh) || t.size() < pos + 6 || t[pos + 3] != ':' ||
        !ParseInt(t, pos + 4, 2, om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset = (oh * 3600 + om * 60) * kMicrosPerSecond * (t[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != t.size()) return std::nullopt;
  int64_t micros = int64_t{date->days} * kMicrosPerDay +
                   (hh * 3600 + mm * 60 + (ss == 60 ? 59 : ss)) * kMicrosPerSecond + frac - offset;
  return Timestamp{micros};
}

std::string Timestamp::ToString() const {
  Date d{static_cast<int32_t>(FloorDiv(micros, kMicrosPerDay))};
  int64_t rem = micros - int64_t{d.days} * kMicrosPerDay;
  int64_t secs = rem / kMicrosPerSecond, frac = rem % kMicrosPerSecond;
  char buf[48];
  if (frac == 0) {
    std::snprintf(buf, sizeof buf, "%sT%02lld:%02lld:%02lldZ", d.ToString().c_str(),
                  (long long)(secs / 3600), (long long)(secs / 60 % 60), (long long)(secs % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%sT%02lld:%02lld:%02lld.%06lldZ", d.ToString().c_str(),
                  (long long)(secs / 3600), (long long)(secs / 60 % 60), (long long)(secs % 60),
                  (long long)frac);
  }
  return buf;
}

Date Timestamp::ToDate() const {
  return Date{static_cast<int32_t>(FloorDiv(micros + RomeOffsetMicros(micros), kMicrosPerDay))};
}

Timestamp Timestamp::StartOfDay(Date d) {
  int64_t utc_midnight = int64_t{d.days} * kMicrosPerDay;
  // The offset at local midnight equals the offset one hour earlier in UTC terms for all
  // but the switch nights, which fall at 01:00 UTC and so never at local midnight.
  return Timestamp{utc_midnight - RomeOffsetMicros(utc_midnight)};
}

}  // namespace caseledger::domain
