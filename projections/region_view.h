// The region and ASL view (docs/api.md): the daily series of the national civil-protection
// bulletin (DPC, ops/reference/dpc-piemonte-daily.csv), for the whole registry and for
// each ASL (by the residence's ASL; people living outside Piedmont count in the region
// only).
//
// A day's figures count events by their effective day: a swab by its collection day
// (kind from its request), a new positive by its result's report day (kind of that swab),
// a recovery or death by the closure day, hospital and intensive care by the day of
// Hospitalized / IcuAdmitted / Discharged. Hospital figures count people with an open case
// only (the bulletin's patients are positives), so that isolamento_domiciliare =
// totale_positivi - ricoverati_con_sintomi - terapia_intensiva is never negative.
// casi_testati counts a person once, on the collection day of their first swab.
#pragma once

#include "domain/reference.h"
#include "domain/time.h"
#include "projections/day_range.h"
#include "projections/keyed_view.h"

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace caseledger::projections {

// One bulletin row; the fields in the DPC column order, then the two extra columns.
struct DpcRow {
  domain::Date day;
  int64_t totale_positivi = 0;
  int64_t isolamento_domiciliare = 0;
  int64_t nuovi_positivi = 0;
  int64_t dimessi_guariti = 0;  // cumulative
  int64_t deceduti = 0;         // cumulative
  int64_t totale_casi = 0;      // cumulative
  int64_t tamponi = 0;          // cumulative
  int64_t casi_testati = 0;     // cumulative
  int64_t tamponi_test_molecolare = 0;                // cumulative
  int64_t tamponi_test_antigenico_rapido = 0;         // cumulative
  int64_t totale_positivi_test_molecolare = 0;        // cumulative
  int64_t totale_positivi_test_antigenico_rapido = 0; // cumulative
  int64_t ricoverati_con_sintomi = 0;
  int64_t terapia_intensiva = 0;
  int64_t totale_ospedalizzati = 0;
  int64_t variazione_totale_positivi = 0;
  bool operator==(const DpcRow&) const = default;
};

// Column names in CSV order ("data" first).
const std::array<std::string_view, 17>& DpcColumns();
// "2020-11-03T17:00:00": the bulletin's time stamp, as in the DPC files.
std::string DpcTimestamp(domain::Date day);
// The values of a row in DpcColumns() order, after "data".
std::array<int64_t, 16> DpcValues(const DpcRow& row);

// An area's bulletin rows as of one published position.
struct AreaReport {
  std::string area;  // "" for the region, else the ASL code
  std::string name;  // "Piemonte" | "ASL TO3"
  uint64_t position = 0;
  std::vector<DpcRow> rows;
  // Per row: events recorded after that day's bulletin was out (by the end of the next
  // day) that still changed the day's figures, once per event.
  std::vector<int64_t> late_reports;
};

class RegionView final : public KeyedView {
 public:
  explicit RegionView(std::shared_ptr<const domain::ReferenceData> reference);
  ~RegionView() override;

  // Name "region". Entries "<area>/<block>" (area "*" for the region, else the ASL code).
  // ChangedKeys: "*" (the region) and the ASL codes changed since the last Publish, sorted.
  void Apply(const LogEvent& e, const PersonRecord* person, PersistSink& sink) override;
  // Effects alone.
  bool ReadsRecord(const LogEvent&, const PersonRecord&) const override { return false; }
  // Only events with effects: Apply adds each effect and nothing else.
  EventInterest Interest() const override { return {0, true}; }

  // Everything below reads the last published snapshot: thread-safe, never blocks.
  // The area's rows for range.from (default: the first day with an event) to range.to
  // (default: `day`), at most kMaxSeriesDays. `area`: "" for the region, or an ASL code;
  // nullopt for an unknown ASL. Empty when nothing happened in the area.
  std::optional<std::vector<DpcRow>> Series(std::string_view area, domain::Date day,
                                            const DayRange& range = {}) const;

  // Series with the area's name and late reports, as of one published position.
  std::optional<AreaReport> Area(std::string_view area, domain::Date day, const DayRange& range = {}) const;

 private:
  class Impl;
  Impl* impl_;  // the view's table (KeyedView owns it)
};

}  // namespace caseledger::projections
