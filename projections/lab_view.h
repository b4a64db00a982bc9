// The lab view (docs/api.md): per laboratory id, results per day by outcome, corrections, and
// the turnaround (collection -> report) median and p90 over the 7 days up to a day, from
// bounded histograms (lab_turnaround.h); plus the region-wide backlog of swabs collected
// and not yet reported.
//
// Attribution: a swab belongs to a lab only when its result arrives (the request and the
// collection do not name one), so the backlog is region-wide: a swab counts in it from its
// collection day to its report day, and no lab has a backlog of its own. Results count on
// their report day with the outcome first reported; a correction counts on its own day for
// the lab that sent it and does not rewrite the earlier day's outcome split.
#pragma once

#include "domain/time.h"
#include "projections/day_range.h"
#include "projections/keyed_view.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace caseledger::projections {

struct LabFigures {
  int64_t results = 0;  // that day
  int64_t positive = 0;
  int64_t negative = 0;
  int64_t inconclusive = 0;
  int64_t corrections = 0;
  int64_t results_7d = 0;  // the 7 days ending on the day
  std::optional<int64_t> turnaround_median_minutes;  // over the 7 days; null when none
  std::optional<int64_t> turnaround_p90_minutes;
  bool operator==(const LabFigures&) const = default;
};

// One day of a lab: that day's results only.
struct LabDay {
  domain::Date date;
  int64_t results = 0;
  int64_t positive = 0;
  int64_t negative = 0;
  int64_t inconclusive = 0;
  int64_t corrections = 0;
  std::optional<int64_t> turnaround_median_minutes;  // bucket limits (lab_turnaround.h)
  std::optional<int64_t> turnaround_p90_minutes;
};

// A lab as of one published position.
struct LabReport {
  std::string lab;
  uint64_t position = 0;
  domain::Date day;
  LabFigures figures;  // on `day`
  int64_t region_backlog = 0;
  std::vector<LabDay> daily;
};

// Every lab as of one published position.
struct LabList {
  uint64_t position = 0;
  domain::Date day;
  int64_t region_backlog = 0;
  std::vector<std::pair<std::string, LabFigures>> labs;  // sorted by id
};

class LabView final : public KeyedView {
 public:
  LabView();
  ~LabView() override;

  // Name "labs". Entries "<lab>/<block>" and "*/<block>" (the backlog). ChangedKeys: lab
  // ids (and "*" for the backlog) changed since the last Publish, sorted.
  //
  // Reacts to SwabCollected, ResultRecorded and ResultCorrected. Runner thread only.
  void Apply(const LogEvent& e, const PersonRecord* person, PersistSink& sink) override;
  // A result's swab (when it was collected, whether it was reported).
  bool ReadsRecord(const LogEvent& e, const PersonRecord& before) const override;
  // Collections, results and corrections.
  EventInterest Interest() const override;

  // Everything below reads the last published snapshot: thread-safe, never blocks.
  // nullopt for a lab that never reported.
  std::optional<LabFigures> FiguresOn(std::string_view lab, domain::Date day) const;
  // Swabs collected on or before `day` and not reported by its end, all labs.
  int64_t RegionBacklog(domain::Date day) const;

  // The lab with its figures on `day` and its daily series from range.from (default: the
  // lab's first day) to range.to (default: `day`), at most kMaxSeriesDays; nullopt for a
  // lab that never reported.
  std::optional<LabReport> Lab(std::string_view lab, domain::Date day, const DayRange& range = {}) const;
  // Every lab with its figures on `day`.
  LabList Labs(domain::Date day) const;

 private:
  class Impl;
  Impl* impl_;  // the view's table (KeyedView owns it)
};

}  // namespace caseledger::projections
