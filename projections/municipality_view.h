// The municipality view (docs/api.md): per ISTAT code, daily series of swabs by kind, new
// positives, open cases, running isolations and quarantines, recoveries and deaths, and
// the 7-day incidence per 100,000 residents (population from the reference table).
//
// Where and when things count (from the effects the runner computes, person_directory.h):
// - a swab counts on its collection day, in the municipality of residence then;
// - a new positive on the report day of the result that opened the case, where the person
//   lived then (cumulative cases are the running sum of new positives); a correction that
//   takes the only positive back removes it from that day; one that turns a result
//   positive adds it on that result's report day;
// - a recovery or death on the closure day (not before the case was counted), where the
//   person lives then;
// - an open case and a running measure count where the person lives, from the effective
//   day of a residence change in the new municipality (and no longer in the old one); a
//   measure runs from its start to its end (the given end, else the plan of the rule set
//   in force on its start day), or to an earlier MeasureEnded day.
// So a municipality's cases need not equal its open + recovered + deceased when people
// moved during their illness; the region's do.
#pragma once

#include "domain/reference.h"
#include "domain/time.h"
#include "projections/day_range.h"
#include "projections/keyed_view.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace caseledger::projections {

// A municipality's figures on one day.
struct MunicipalityFigures {
  int64_t new_positives = 0;       // that day
  int64_t swabs_molecular = 0;     // that day
  int64_t swabs_antigen = 0;       // that day
  int64_t active_isolations = 0;   // at the end of the day
  int64_t active_quarantines = 0;
  int64_t currently_positive = 0;
  int64_t cumulative_cases = 0;    // up to and including the day
  int64_t recovered = 0;
  int64_t deceased = 0;
  int64_t new_positives_7d = 0;    // the 7 days ending on the day
  std::optional<double> incidence_7d_per_100k;  // null when the population is unknown
  bool operator==(const MunicipalityFigures&) const = default;
};

struct MunicipalityFilter {
  std::string asl;       // ASL code ("TO3"); empty: any
  std::string province;  // abbreviation ("TO") or ISTAT province code ("001"); empty: any
};

// One day of a municipality's series. Incidence: new positives of the 7 days ending on the
// day / population * 100000, rounded to 2 decimals.
struct MunicipalityDay {
  domain::Date date;
  MunicipalityFigures figures;
};

// A municipality as of one published position.
struct MunicipalityReport {
  std::string istat;
  std::optional<domain::Municipality> identity;  // from the reference table; none: unknown there
  uint64_t position = 0;
  domain::Date day;
  MunicipalityFigures figures;  // on `day`
  std::vector<MunicipalityDay> daily;
};

struct MunicipalityRow {
  domain::Municipality identity;
  MunicipalityFigures figures;
};

// The municipalities matching a filter, as of one published position.
struct MunicipalityList {
  uint64_t position = 0;
  domain::Date day;
  MunicipalityFilter filter;
  std::vector<MunicipalityRow> municipalities;  // in ISTAT order
};

class MunicipalityView final : public KeyedView {
 public:
  explicit MunicipalityView(std::shared_ptr<const domain::ReferenceData> reference);
  ~MunicipalityView() override;

  // Name "municipalities". Entries "<istat>/<block>": 32 days of counters
  // (series_table.h). ChangedKeys: the ISTAT codes changed since the last Publish, sorted.
  //
  // Reacts to the effects of person events (LogEvent::effects). Runner thread only.
  void Apply(const LogEvent& e, const PersonRecord* person, PersistSink& sink) override;
  // Effects alone.
  bool ReadsRecord(const LogEvent&, const PersonRecord&) const override { return false; }
  // Only events with effects: Apply adds each effect and nothing else.
  EventInterest Interest() const override { return {0, true}; }

  // Everything below reads the last published snapshot: thread-safe, never blocks the
  // writer.
  // Figures of a municipality on `day`; nullopt when the code is neither in the reference
  // table nor in the view.
  std::optional<MunicipalityFigures> FiguresOn(std::string_view istat, domain::Date day) const;

  // The municipality as of the last Publish: its figures on `day` and its daily series
  // from range.from (default: the first day with an event) to range.to (default: `day`),
  // at most kMaxSeriesDays days (the latest ones). nullopt when the code is neither in the
  // reference table nor in the view.
  std::optional<MunicipalityReport> Municipality(std::string_view istat, domain::Date day,
                                                 const DayRange& range = {}) const;

  // Every municipality of the reference table matching the filter, in ISTAT order, with
  // its figures on `day`; with an empty filter, every Piedmont municipality (those with an
  // ASL). An ASL or province that matches nothing gives an empty list.
  MunicipalityList Municipalities(const MunicipalityFilter& filter, domain::Date day) const;

 private:
  class Impl;
  Impl* impl_;  // the view's table (KeyedView owns it)
};

}  // namespace caseledger::projections
