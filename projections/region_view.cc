#include "projections/region_view.h"

#include "domain/string_hash.h"
#include "projections/series_table.h"

#include <algorithm>

#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

namespace caseledger::projections {
namespace {

using domain::Date;

constexpr std::string_view kRegionArea = "*";
constexpr std::string_view kRegionName = "Piemonte";

enum Column : size_t {
  kNewPositivesMolecular,
  kNewPositivesAntigen,
  kPositive,  // deltas of open cases
  kWard,      // deltas of open cases in hospital, not in intensive care
  kIcu,       // deltas of open cases in intensive care
  kRecovered,
  kDeceased,
  kSwabsMolecular,
  kSwabsAntigen,
  kFirstTested,
  kLateReports,  // events recorded after the bulletin of this day was out (not a level)
  kColumns,
};

using Table = SeriesTable<kColumns>;
using AreaSeries = Table::Series;

std::optional<Column> ColumnOf(const Effect& e) {
  bool antigen = e.test == domain::SwabKind::kAntigen;
  switch (e.metric) {
    case Metric::kSwab: return antigen ? kSwabsAntigen : kSwabsMolecular;
    case Metric::kFirstSwab: return kFirstTested;
    case Metric::kNewPositive: return antigen ? kNewPositivesAntigen : kNewPositivesMolecular;
    case Metric::kPositive: return kPositive;
    case Metric::kWard: return kWard;
    case Metric::kIcu: return kIcu;
    case Metric::kRecovered: return kRecovered;
    case Metric::kDeceased: return kDeceased;
    case Metric::kIsolation:
    case Metric::kQuarantine:
      return std::nullopt;
  }
  return std::nullopt;
}

DpcRow RowOf(Date d, const AreaSeries::Row& day, const std::array<int64_t, kColumns>& level) {
  DpcRow r;
  r.day = d;
  r.totale_positivi = level[kPositive];
  r.ricoverati_con_sintomi = level[kWard];
  r.terapia_intensiva = level[kIcu];
  r.totale_ospedalizzati = r.ricoverati_con_sintomi + r.terapia_intensiva;
  r.isolamento_domiciliare = r.totale_positivi - r.totale_ospedalizzati;
  r.nuovi_positivi = int64_t{day[kNewPositivesMolecular]} + day[kNewPositivesAntigen];
  r.dimessi_guariti = level[kRecovered];
  r.deceduti = level[kDeceased];
  r.totale_positivi_test_molecolare = level[kNewPositivesMolecular];
  r.totale_positivi_test_antigenico_rapido = level[kNewPositivesAntigen];
  r.totale_casi = r.totale_positivi_test_molecolare + r.totale_positivi_test_antigenico_rapido;
  r.tamponi_test_molecolare = level[kSwabsMolecular];
  r.tamponi_test_antigenico_rapido = level[kSwabsAntigen];
  r.tamponi = r.tamponi_test_molecolare + r.tamponi_test_antigenico_rapido;
  r.casi_testati = level[kFirstTested];
  r.variazione_totale_positivi = day[kPositive];
  return r;
}


}  // namespace

const std::array<std::string_view, 17>& DpcColumns() {
  static const std::array<std::string_view, 17> columns = {
      "data", "totale_positivi", "isolamento_domiciliare", "nuovi_positivi", "dimessi_guariti",
      "deceduti", "totale_casi", "tamponi", "casi_testati", "tamponi_test_molecolare",
      "tamponi_test_antigenico_rapido", "totale_positivi_test_molecolare",
      "totale_positivi_test_antigenico_rapido", "ricoverati_con_sintomi", "terapia_intensiva",
      "totale_ospedalizzati", "variazione_totale_positivi"};
  return columns;
}

std::string DpcTimestamp(Date day) { return day.ToString() + "T17:00:00"; }

std::array<int64_t, 16> DpcValues(const DpcRow& r) {
  return {r.totale_positivi, r.isolamento_domiciliare, r.nuovi_positivi, r.dimessi_guariti,
          r.deceduti, r.totale_casi, r.tamponi, r.casi_testati, r.tamponi_test_molecolare,
          r.tamponi_test_antigenico_rapido, r.totale_positivi_test_molecolare,
          r.totale_positivi_test_antigenico_rapido, r.ricoverati_con_sintomi, r.terapia_intensiva,
          r.totale_ospedalizzati, r.variazione_totale_positivi};
}

class RegionView::Impl final : public Table {
 public:

  std::shared_ptr<const domain::ReferenceData> reference;
  std::unordered_map<std::string, std::string, domain::StringHash, std::equal_to<>> asl_of;  // istat -> ASL
  std::string_view AslOf(std::string_view istat) const {
    auto it = asl_of.find(istat);
    return it == asl_of.end() ? std::string_view() : std::string_view(it->second);
  }
  // The rows (Table::Id, made when new) of the region and of the ASL of the effect's
  // municipality (kNoAsl: it has none), the latter by the municipality's place when it has
  // one rather than by two look-ups of strings per effect.
  static constexpr uint32_t kNoAsl = PlaceMemo::kUnknown - 1;
  uint32_t RegionRow() {
    if (region_row == PlaceMemo::kUnknown) region_row = Id(kRegionArea);
    return region_row;
  }
  uint32_t AslRow(const Effect& e) {
    uint32_t id = e.place != 0 ? asl_by_place.Get(e.place) : PlaceMemo::kUnknown;
    if (id != PlaceMemo::kUnknown) return id;
    const std::string_view asl = AslOf(e.istat);
    id = asl.empty() ? kNoAsl : Id(asl);
    if (e.place != 0) asl_by_place.Set(e.place, id);
    return id;
  }
  void Clear() override {
    Table::Clear();
    region_row = PlaceMemo::kUnknown;
    asl_by_place.Clear();
  }
  uint32_t region_row = PlaceMemo::kUnknown;
  PlaceMemo asl_by_place;
  std::vector<std::pair<uint32_t, Date>> late;  // Apply's scratch: the (row, day)s of an event's late reports
  // "" -> the region's key; an ASL code -> itself if the reference knows it.
  std::optional<std::string_view> AreaKey(std::string_view area) const {
    if (area.empty()) return kRegionArea;
    if (reference) {
      for (const domain::Asl& a : reference->asls()) {
        if (a.code == area) return std::string_view(a.code);
      }
    }
    return std::nullopt;
  }
  // `late`, when given, receives each row's count of late reports.
  std::optional<std::vector<DpcRow>> RowsOf(const Table::Rows& snapshot, std::string_view area, Date day,
                                          const DayRange& range, std::vector<int64_t>* late = nullptr) const;
  std::string_view AreaName(std::string_view area) const {
    if (area.empty()) return kRegionName;
    for (const domain::Asl& a : reference->asls()) {
      if (a.code == area) return a.name;
    }
    return area;
  }
};

RegionView::RegionView(std::shared_ptr<const domain::ReferenceData> reference)
    : KeyedView("region", std::make_unique<Impl>()), impl_(static_cast<Impl*>(&table())) {
  impl_->reference = std::move(reference);
  if (impl_->reference) {
    for (const domain::Municipality& m : impl_->reference->municipalities()) {
      if (!m.asl.empty()) impl_->asl_of.emplace(m.istat_code, m.asl);
    }
  }
}

RegionView::~RegionView() = default;

void RegionView::Apply(const LogEvent& e, const PersonRecord*, PersistSink&) {
  // A day's bulletin is out by the end of the next day: an event recorded later that still
  // changes the day's figures is a late report of that day, counted once per event and area
  // so that a rewrite of a published day shows instead of passing silently.
  // The recorded day only for an event with a figure to count, and the late days counted
  // in the view's own buffer: most events have none, and the day and a vector per event
  // were ~60 instructions an event of a catch-up (docs/benchmarks.md, session 30).
  std::optional<Date> recorded;
  std::vector<std::pair<uint32_t, Date>>& late = impl_->late;  // (row, day)
  late.clear();
  for (const Effect& effect : e.effects) {
    auto column = ColumnOf(effect);
    if (!column || effect.delta == 0) continue;
    const uint32_t region = impl_->RegionRow();
    impl_->AddTo(region, effect.day, *column, effect.delta);
    const uint32_t asl = impl_->AslRow(effect);
    if (asl != Impl::kNoAsl) impl_->AddTo(asl, effect.day, *column, effect.delta);
    if (!recorded) recorded = e.envelope.recorded_at.ToDate();
    if (*recorded - effect.day <= 1) continue;
    for (uint32_t area : {region, asl}) {
      if (area == Impl::kNoAsl || std::find(late.begin(), late.end(), std::pair{area, effect.day}) != late.end()) {
        continue;
      }
      late.emplace_back(area, effect.day);
      impl_->AddTo(area, effect.day, kLateReports, 1);
    }
  }
}

std::optional<std::vector<DpcRow>> RegionView::Series(std::string_view area, Date day,
                                                      const DayRange& range) const {
  return impl_->RowsOf(*Snapshot<Table::Rows>().table, area, day, range);
}

std::optional<std::vector<DpcRow>> RegionView::Impl::RowsOf(const Table::Rows& snapshot, std::string_view area,
                                                            Date day, const DayRange& range,
                                                            std::vector<int64_t>* late) const {
  auto key = AreaKey(area);
  if (!key) return std::nullopt;
  std::vector<DpcRow> rows;
  const AreaSeries* s = Table::FindIn(snapshot, *key);
  if (!s) return rows;
  Date to = range.to.value_or(day);
  Date from = range.from ? *range.from : s->FirstActiveDay().value_or(to + 1);
  if (to - from >= kMaxSeriesDays) from = to + (1 - kMaxSeriesDays);
  if (from > to) return rows;
  rows.reserve(to - from + 1);
  s->Walk(from, to, [&](Date d, const AreaSeries::Row& r, const auto& level) {
    rows.push_back(RowOf(d, r, level));
    if (late) late->push_back(r[kLateReports]);
  });
  return rows;
}

std::optional<AreaReport> RegionView::Area(std::string_view area, Date day, const DayRange& range) const {
  const auto snap = Snapshot<Table::Rows>();
  AreaReport out;
  auto rows = impl_->RowsOf(*snap.table, area, day, range, &out.late_reports);
  if (!rows) return std::nullopt;
  out.area = std::string(area);
  out.name = std::string(impl_->AreaName(area));
  out.position = snap.position;
  out.rows = std::move(*rows);
  return out;
}

}  // namespace caseledger::projections
