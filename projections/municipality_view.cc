#include "projections/municipality_view.h"

#include "projections/series_table.h"

#include <cmath>

namespace caseledger::projections {
namespace {

using domain::Date;

enum Column : size_t {
  kNewPositives,
  kSwabsMolecular,
  kSwabsAntigen,
  kPositive,     // deltas of open cases
  kIsolations,   // deltas of running isolations
  kQuarantines,  // deltas of running quarantines
  kRecovered,
  kDeceased,
  kColumns,
};

using Table = SeriesTable<kColumns>;
using Series = Table::Series;

std::optional<Column> ColumnOf(const Effect& e) {
  switch (e.metric) {
    case Metric::kSwab:
      return e.test == domain::SwabKind::kAntigen ? kSwabsAntigen : kSwabsMolecular;
    case Metric::kNewPositive: return kNewPositives;
    case Metric::kPositive: return kPositive;
    case Metric::kIsolation: return kIsolations;
    case Metric::kQuarantine: return kQuarantines;
    case Metric::kRecovered: return kRecovered;
    case Metric::kDeceased: return kDeceased;
    case Metric::kFirstSwab:
    case Metric::kWard:
    case Metric::kIcu:
      return std::nullopt;
  }
  return std::nullopt;
}

std::optional<double> Incidence(int64_t positives_7d, const domain::Municipality* m) {
  if (!m || m->population <= 0) return std::nullopt;
  return std::round(static_cast<double>(positives_7d) * 100000.0 / m->population * 100.0) / 100.0;
}

// A day's figures from its deltas and the levels at its end, with the week's positives.
MunicipalityFigures FiguresOf(const Series::Row& row, const std::array<int64_t, kColumns>& levels, int64_t week,
                              const domain::Municipality* m) {
  MunicipalityFigures f;
  f.new_positives = row[kNewPositives];
  f.swabs_molecular = row[kSwabsMolecular];
  f.swabs_antigen = row[kSwabsAntigen];
  f.active_isolations = levels[kIsolations];
  f.active_quarantines = levels[kQuarantines];
  f.currently_positive = levels[kPositive];
  f.cumulative_cases = levels[kNewPositives];
  f.recovered = levels[kRecovered];
  f.deceased = levels[kDeceased];
  f.new_positives_7d = week;
  f.incidence_7d_per_100k = Incidence(week, m);
  return f;
}

MunicipalityFigures FiguresOf(const Series* s, const domain::Municipality* m, Date day) {
  if (!s) return FiguresOf(Series::Row{}, {}, 0, m);
  return FiguresOf(s->At(day), s->Levels(day), s->Sum(kNewPositives, day + -6, day), m);
}

std::vector<MunicipalityDay> Daily(const Series& s, const domain::Municipality* m, Date day, const DayRange& range) {
  std::vector<MunicipalityDay> out;
  std::optional<Date> first = s.FirstActiveDay();
  Date to = range.to.value_or(day);
  Date from = range.from ? *range.from : first.value_or(to + 1);
  if (to - from >= kMaxSeriesDays) from = to + (1 - kMaxSeriesDays);
  if (from > to) return out;
  out.reserve(to - from + 1);
  // The rolling 7-day sum needs the 6 days before `from`.
  int64_t week = s.Sum(kNewPositives, from + -6, from + -1);
  std::vector<int32_t> window;
  for (Date d = from + -6; d < from; d = d + 1) window.push_back(s.At(d)[kNewPositives]);
  s.Walk(from, to, [&](Date d, const Series::Row& row, const std::array<int64_t, kColumns>& level) {
    week += row[kNewPositives];
    window.push_back(row[kNewPositives]);
    out.push_back({d, FiguresOf(row, level, week, m)});
    week -= window[window.size() - 7];
  });
  return out;
}

}  // namespace

class MunicipalityView::Impl final : public Table {
 public:
  explicit Impl(std::shared_ptr<const domain::ReferenceData> r) : reference(std::move(r)) {}
  std::shared_ptr<const domain::ReferenceData> reference;

  // The reference table's municipality; nullptr when unknown. Any thread (immutable).
  const domain::Municipality* MunicipalityOf(std::string_view istat) const {
    return reference ? reference->FindMunicipality(istat) : nullptr;
  }
  static const Series* SeriesOf(const Table::Rows& rows, std::string_view istat) { return Table::FindIn(rows, istat); }

  // The row of the effect's municipality (made when new), by its place when it has one.
  uint32_t RowOf(const Effect& e) {
    if (e.place == 0) return Id(e.istat);
    uint32_t id = rows_by_place.Get(e.place);
    if (id == PlaceMemo::kUnknown) {
      id = Id(e.istat);
      rows_by_place.Set(e.place, id);
    }
    return id;
  }
  void Clear() override {
    Table::Clear();
    rows_by_place.Clear();
  }
  PlaceMemo rows_by_place;  // the rows' ids (Table::Id), by municipality
};

MunicipalityView::MunicipalityView(std::shared_ptr<const domain::ReferenceData> reference)
    : KeyedView("municipalities", std::make_unique<Impl>(std::move(reference))),
      impl_(static_cast<Impl*>(&table())) {}

MunicipalityView::~MunicipalityView() = default;

void MunicipalityView::Apply(const LogEvent& e, const PersonRecord*, PersistSink&) {
  for (const Effect& effect : e.effects) {
    const auto column = ColumnOf(effect);
    if (column && effect.delta != 0) impl_->AddTo(impl_->RowOf(effect), effect.day, *column, effect.delta);
  }
}

std::optional<MunicipalityFigures> MunicipalityView::FiguresOn(std::string_view istat, Date day) const {
  const auto snap = Snapshot<Table::Rows>();
  const Series* s = Impl::SeriesOf(*snap.table, istat);
  const domain::Municipality* m = impl_->MunicipalityOf(istat);
  if (!s && !m) return std::nullopt;
  return FiguresOf(s, m, day);
}

std::optional<MunicipalityReport> MunicipalityView::Municipality(std::string_view istat, Date day,
                                                                 const DayRange& range) const {
  const auto snap = Snapshot<Table::Rows>();
  const Series* s = Impl::SeriesOf(*snap.table, istat);
  const domain::Municipality* m = impl_->MunicipalityOf(istat);
  if (!s && !m) return std::nullopt;
  MunicipalityReport o;
  o.istat = std::string(istat);
  if (m) o.identity = *m;
  o.position = snap.position;
  o.day = day;
  o.figures = FiguresOf(s, m, day);
  if (s) o.daily = Daily(*s, m, day, range);
  return o;
}

MunicipalityList MunicipalityView::Municipalities(const MunicipalityFilter& filter, Date day) const {
  const auto snap = Snapshot<Table::Rows>();
  MunicipalityList out;
  out.position = snap.position;
  out.day = day;
  out.filter = filter;
  if (impl_->reference) {
    for (const domain::Municipality& m : impl_->reference->municipalities()) {
      if (filter.asl.empty() && filter.province.empty() && m.asl.empty()) continue;
      if (!filter.asl.empty() && m.asl != filter.asl) continue;
      if (!filter.province.empty() && m.province_abbr != filter.province &&
          m.province_code != filter.province) {
        continue;
      }
      out.municipalities.push_back({m, FiguresOf(Impl::SeriesOf(*snap.table, m.istat_code), &m, day)});
    }
  }
  return out;
}

}  // namespace caseledger::projections
