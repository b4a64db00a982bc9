#include "workload/dpc_compare.h"

#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>

namespace caseledger::workload {

std::vector<ColumnDifference> CompareWithBulletin(const std::vector<projections::DpcRow>& rows,
                                                  const ScaledSeries& series) {
  using projections::DpcRow;
  struct Column {
    const char* name;
    std::function<int64_t(const DpcRow& row, const DpcRow& base)> view;
    std::function<int64_t(const ScaledDay& day, const ScaledDay* before)> bulletin;
  };
  auto since = [](int64_t DpcRow::*c) {
    return [c](const DpcRow& r, const DpcRow& b) { return r.*c - b.*c; };
  };
  auto level = [](int64_t DpcRow::*c) {
    return [c](const DpcRow& r, const DpcRow&) { return r.*c; };
  };
  auto daily = [](int64_t ScaledDay::*c) {
    return [c](const ScaledDay& d, const ScaledDay* y) { return d.*c - (y ? y->*c : 0); };
  };
  const int64_t open_before = series.open_cases_before;
  const std::vector<Column> columns = {
      {"tamponi", since(&DpcRow::tamponi),
       [](const ScaledDay& d, const ScaledDay*) { return d.swabs; }},
      {"tamponi_test_antigenico_rapido", since(&DpcRow::tamponi_test_antigenico_rapido),
       [](const ScaledDay& d, const ScaledDay*) { return d.antigen_swabs; }},
      {"nuovi_positivi", level(&DpcRow::nuovi_positivi), daily(&ScaledDay::new_positives)},
      {"dimessi_guariti", since(&DpcRow::dimessi_guariti),
       [](const ScaledDay& d, const ScaledDay*) { return d.recoveries; }},
      {"deceduti", since(&DpcRow::deceduti),
       [](const ScaledDay& d, const ScaledDay*) { return d.deaths; }},
      {"casi_testati", since(&DpcRow::casi_testati),
       [](const ScaledDay& d, const ScaledDay*) { return d.newly_tested; }},
      {"ricoverati_con_sintomi", level(&DpcRow::ricoverati_con_sintomi),
       [](const ScaledDay& d, const ScaledDay*) { return d.ward; }},
      {"terapia_intensiva", level(&DpcRow::terapia_intensiva),
       [](const ScaledDay& d, const ScaledDay*) { return d.icu; }},
      {"totale_positivi", level(&DpcRow::totale_positivi),
       [open_before](const ScaledDay& d, const ScaledDay*) {
         return open_before + d.new_positives - d.recoveries - d.deaths;
       }},
  };
  std::vector<ColumnDifference> out;
  if (series.days.empty() || rows.size() != series.days.size() + 1) return out;
  const DpcRow& base = rows.front();
  for (const Column& c : columns) {
    ColumnDifference diff{c.name, 0, series.days.front().day, 0, 0};
    for (size_t i = 0; i < series.days.size(); ++i) {
      const DpcRow& row = rows[i + 1];
      const ScaledDay& day = series.days[i];
      const int64_t view = c.view(row, base);
      const int64_t bulletin = c.bulletin(day, i > 0 ? &series.days[i - 1] : nullptr);
      if (std::llabs(view - bulletin) > diff.largest)
        diff = {c.name, std::llabs(view - bulletin), day.day, view, bulletin};
    }
    out.push_back(diff);
  }
  return out;
}

domain::Result<ScaledSeries> LoadScaledSeries(const std::string& reference_dir, domain::Date from,
                                              domain::Date to, int64_t scale) {
  const std::string path = reference_dir + "/dpc-piemonte-daily.csv";
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (!in.is_open() || !(text << in.rdbuf()))
    return domain::Error::Invalid("reference", "cannot read " + path);
  auto series = ParseDpcDaily(text.str());
  if (!series) return series.error();
  return ScaleSeries(*series, from, to, scale);
}

}  // namespace caseledger::workload
