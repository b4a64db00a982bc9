#include "workload/demo_series.h"

#include <array>
#include <charconv>
#include <string>

namespace caseledger::workload {
namespace {

using domain::Date;
using domain::Error;

std::vector<std::string_view> SplitCsvLine(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  while (true) {
    size_t comma = line.find(',', start);
    fields.push_back(line.substr(start, comma == std::string_view::npos ? comma : comma - start));
    if (comma == std::string_view::npos) return fields;
    start = comma + 1;
  }
}

bool ParseInt(std::string_view text, int64_t& out) {
  if (text.empty()) {
    out = 0;
    return true;
  }
  auto r = std::from_chars(text.data(), text.data() + text.size(), out);
  return r.ec == std::errc{} && r.ptr == text.data() + text.size();
}

// Column names in the order of the int64_t members of DpcDay after `day`.
constexpr std::array<std::string_view, 9> kColumns = {"totale_positivi",
                                                      "nuovi_positivi",
                                                      "dimessi_guariti",
                                                      "deceduti",
                                                      "tamponi",
                                                      "casi_testati",
                                                      "tamponi_test_antigenico_rapido",
                                                      "ricoverati_con_sintomi",
                                                      "terapia_intensiva"};

std::array<int64_t*, 9> Members(DpcDay& d) {
  return {&d.totale_positivi,  &d.nuovi_positivi, &d.dimessi_guariti,    &d.deceduti,
          &d.tamponi,          &d.casi_testati,   &d.tamponi_antigenici, &d.ricoverati_con_sintomi,
          &d.terapia_intensiva};
}

}  // namespace

int64_t RoundDiv(int64_t a, int64_t n) {
  // floor((2a + n) / 2n), with floor division for negative numerators.
  int64_t num = 2 * a + n, den = 2 * n;
  int64_t q = num / den;
  return (num % den != 0 && num < 0) ? q - 1 : q;
}

domain::Result<std::vector<DpcDay>> ParseDpcDaily(std::string_view csv) {
  std::vector<DpcDay> days;
  std::array<size_t, kColumns.size()> index{};
  size_t date_index = 0, line_no = 0;
  while (!csv.empty()) {
    size_t nl = csv.find('\n');
    std::string_view line = csv.substr(0, nl);
    csv = nl == std::string_view::npos ? std::string_view{} : csv.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    ++line_no;
    if (line.empty()) continue;
    auto fields = SplitCsvLine(line);
    const std::string where = "DPC series line " + std::to_string(line_no);
    if (line_no == 1) {
      auto find = [&](std::string_view name) -> std::optional<size_t> {
        for (size_t i = 0; i < fields.size(); ++i) {
          if (fields[i] == name) return i;
        }
        return std::nullopt;
      };
      auto data = find("data");
      if (!data) return Error::Invalid("dpc", where + ": no column \"data\"");
      date_index = *data;
      for (size_t c = 0; c < kColumns.size(); ++c) {
        auto i = find(kColumns[c]);
        if (!i)
          return Error::Invalid("dpc", where + ": no column \"" + std::string(kColumns[c]) + "\"");
        index[c] = *i;
      }
      continue;
    }
    DpcDay day;
    std::string_view stamp = date_index < fields.size() ? fields[date_index] : std::string_view{};
    auto date = Date::Parse(stamp.substr(0, 10));
    if (!date) return Error::Invalid("dpc", where + ": bad date \"" + std::string(stamp) + "\"");
    day.day = *date;
    auto members = Members(day);
    for (size_t c = 0; c < kColumns.size(); ++c) {
      std::string_view text = index[c] < fields.size() ? fields[index[c]] : std::string_view{};
      if (!ParseInt(text, *members[c])) {
        return Error::Invalid("dpc", where + ": " + std::string(kColumns[c]) + " is not a number");
      }
    }
    if (!days.empty() && day.day != days.back().day + 1) {
      return Error::Invalid("dpc", where + ": " + day.day.ToString() + " does not follow " +
                                       days.back().day.ToString());
    }
    days.push_back(day);
  }
  if (days.empty()) return Error::Invalid("dpc", "DPC series is empty");
  return days;
}

domain::Result<ScaledSeries> ScaleSeries(const std::vector<DpcDay>& series, Date from, Date to,
                                         int64_t scale) {
  if (scale < 1) return Error::Invalid("scale", "scale must be 1:N with N >= 1");
  if (series.empty() || from < series.front().day || to > series.back().day) {
    return Error::Invalid("from", "the DPC series covers only " +
                                      (series.empty() ? std::string("nothing")
                                                      : series.front().day.ToString() + " to " +
                                                            series.back().day.ToString()));
  }
  if (to < from) return Error::Invalid("to", "the range ends before it starts");
  const size_t first = static_cast<size_t>(from - series.front().day);
  DpcDay base;  // the day before the range; zeros when the range starts the series
  if (first > 0) base = series[first - 1];
  // casi_testati and the antigen column start later than the series: count them from the
  // first day they are published, not from a zero that would look like a jump.
  auto since = [](int64_t value, int64_t& base_value) {
    if (value == 0) return int64_t{0};
    if (base_value == 0) base_value = value;
    return value - base_value;
  };

  ScaledSeries out;
  out.open_cases_before = RoundDiv(base.totale_positivi, scale);
  out.ward_before = RoundDiv(base.ricoverati_con_sintomi, scale);
  out.icu_before = RoundDiv(base.terapia_intensiva, scale);
  int64_t positives = 0;
  for (size_t i = first; i <= first + static_cast<size_t>(to - from); ++i) {
    const DpcDay& d = series[i];
    positives += d.nuovi_positivi;
    ScaledDay s;
    s.day = d.day;
    s.swabs = RoundDiv(d.tamponi - base.tamponi, scale);
    s.antigen_swabs = RoundDiv(since(d.tamponi_antigenici, base.tamponi_antigenici), scale);
    s.new_positives = RoundDiv(positives, scale);
    s.recoveries = RoundDiv(d.dimessi_guariti - base.dimessi_guariti, scale);
    s.deaths = RoundDiv(d.deceduti - base.deceduti, scale);
    s.newly_tested = RoundDiv(since(d.casi_testati, base.casi_testati), scale);
    s.ward = RoundDiv(d.ricoverati_con_sintomi, scale);
    s.icu = RoundDiv(d.terapia_intensiva, scale);
    out.days.push_back(s);
  }
  return out;
}

}  // namespace caseledger::workload
