#include "workload/loadgen_peak.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "workload/demo_series.h"

namespace caseledger::workload {

domain::Result<PeakDays> FindItalyPeak(const std::string& reference_dir) {
  const std::string path = reference_dir + "/dpc-italia-daily.csv";
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (!in.is_open() || !(text << in.rdbuf())) return domain::Error::Invalid("reference", "cannot read " + path);
  auto series = ParseDpcDaily(text.str());
  if (!series) return series.error();
  PeakDays peak;
  // Swabs of a day: the cumulative figure over the highest one before it, so that a day
  // the file corrects down (2024-11-05 drops by 27 M and comes back the next day) does not
  // make the day after it the peak.
  int64_t highest = 0;
  for (size_t i = 0; i < series->size(); ++i) {
    const DpcDay& d = (*series)[i];
    const int64_t swabs = i == 0 ? 0 : std::max<int64_t>(0, d.tamponi - highest);
    highest = std::max(highest, d.tamponi);
    if (swabs > peak.swabs) peak.swabs = swabs, peak.swab_day = d.day;
    if (d.nuovi_positivi > peak.positives) peak.positives = d.nuovi_positivi, peak.positive_day = d.day;
  }
  if (peak.swabs == 0) return domain::Error::Invalid("reference", path + " has no swabs");
  return peak;
}

}  // namespace caseledger::workload
