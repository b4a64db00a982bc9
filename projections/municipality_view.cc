#include "projections/municipality_view.h"

#include "projections/series_table.h"

#include <boost/json.hpp>

#include <cmath>

namespace caseledger::projections {
namespace {

namespace json = boost::json;
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

json::value OrNull(const std::optional<double>& v) { return v ? json::value(*v) : json::value(nullptr); }

json::value OrNull(const std::string& s) { return s.empty() ? json::value(nullptr) : json::value(s); }

MunicipalityFigures FiguresOf(const Series* s, const domain::Municipality* m, Date day) {
  MunicipalityFigures f;
  if (s) {
    auto levels = s->Levels(day);
    auto row = s->At(day);
    f.new_positives = row[kNewPositives];
    f.swabs_molecular = row[kSwabsMolecular];
    f.swabs_antigen = row[kSwabsAntigen];
    f.active_isolations = levels[kIsolations];
    f.active_quarantines = levels[kQuarantines];
    f.currently_positive = levels[kPositive];
    f.cumulative_cases = levels[kNewPositives];
    f.recovered = levels[kRecovered];
    f.deceased = levels[kDeceased];
    f.new_positives_7d = s->Sum(kNewPositives, day + -6, day);
  }
  f.incidence_7d_per_100k = Incidence(f.new_positives_7d, m);
  return f;
}

void PutIdentity(json::object& o, std::string_view istat, const domain::Municipality* m) {
  o["istat"] = istat;
  o["name"] = m ? json::value(m->name) : json::value(nullptr);
  o["province"] = m ? json::value(m->province_abbr) : json::value(nullptr);
  o["asl"] = m ? OrNull(m->asl) : json::value(nullptr);
  o["population"] = m ? json::value(m->population) : json::value(nullptr);
}

void PutFigures(json::object& o, const MunicipalityFigures& f) {
  o["active_isolations"] = f.active_isolations;
  o["active_quarantines"] = f.active_quarantines;
  o["currently_positive"] = f.currently_positive;
  o["cumulative_cases"] = f.cumulative_cases;
  o["recovered"] = f.recovered;
  o["deceased"] = f.deceased;
  o["new_positives"] = f.new_positives;
  o["new_positives_7d"] = f.new_positives_7d;
  o["incidence_7d_per_100k"] = OrNull(f.incidence_7d_per_100k);
}

json::array Daily(const Series& s, const domain::Municipality* m, Date day, const DayRange& range) {
  json::array out;
  std::optional<Date> first = s.FirstActiveDay();
  Date to = range.to.value_or(day);
  Date from = range.from ? *range.from : first.value_or(to + 1);
  if (to - from >= kMaxSeriesDays) from = to + (1 - kMaxSeriesDays);
  if (from > to) return out;
  // The rolling 7-day sum needs the 6 days before `from`.
  int64_t week = s.Sum(kNewPositives, from + -6, from + -1);
  std::vector<int32_t> window;
  for (Date d = from + -6; d < from; d = d + 1) window.push_back(s.At(d)[kNewPositives]);
  s.Walk(from, to, [&](Date d, const Series::Row& row, const std::array<int64_t, kColumns>& level) {
    week += row[kNewPositives];
    window.push_back(row[kNewPositives]);
    json::object o;
    o["date"] = d.ToString();
    o["new_positives"] = row[kNewPositives];
    o["swabs_molecular"] = row[kSwabsMolecular];
    o["swabs_antigen"] = row[kSwabsAntigen];
    o["active_isolations"] = level[kIsolations];
    o["active_quarantines"] = level[kQuarantines];
    o["currently_positive"] = level[kPositive];
    o["cumulative_cases"] = level[kNewPositives];
    o["recovered"] = level[kRecovered];
    o["deceased"] = level[kDeceased];
    o["new_positives_7d"] = week;
    o["incidence_7d_per_100k"] = OrNull(Incidence(week, m));
    out.push_back(std::move(o));
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
};

MunicipalityView::MunicipalityView(std::shared_ptr<const domain::ReferenceData> reference)
    : KeyedView("municipalities", std::make_unique<Impl>(std::move(reference))),
      impl_(static_cast<Impl*>(&table())) {}

MunicipalityView::~MunicipalityView() = default;

void MunicipalityView::Apply(const LogEvent& e, const PersonRecord*, PersistSink&) {
  for (const Effect& effect : e.effects) {
    if (auto column = ColumnOf(effect)) impl_->Add(effect.istat, effect.day, *column, effect.delta);
  }
}

std::optional<MunicipalityFigures> MunicipalityView::FiguresOn(std::string_view istat, Date day) const {
  const auto snap = Snapshot<Table::Rows>();
  const Series* s = Impl::SeriesOf(*snap.table, istat);
  const domain::Municipality* m = impl_->MunicipalityOf(istat);
  if (!s && !m) return std::nullopt;
  return FiguresOf(s, m, day);
}

std::optional<json::object> MunicipalityView::MunicipalityJson(std::string_view istat, Date day,
                                                               const DayRange& range) const {
  const auto snap = Snapshot<Table::Rows>();
  const Series* s = Impl::SeriesOf(*snap.table, istat);
  const domain::Municipality* m = impl_->MunicipalityOf(istat);
  if (!s && !m) return std::nullopt;
  json::object o;
  PutIdentity(o, istat, m);
  o["position"] = snap.position;
  o["day"] = day.ToString();
  PutFigures(o, FiguresOf(s, m, day));
  o["daily"] = s ? Daily(*s, m, day, range) : json::array();
  return o;
}

json::object MunicipalityView::MunicipalitiesJson(const MunicipalityFilter& filter, Date day) const {
  const auto snap = Snapshot<Table::Rows>();
  json::array list;
  if (impl_->reference) {
    for (const domain::Municipality& m : impl_->reference->municipalities()) {
      if (filter.asl.empty() && filter.province.empty() && m.asl.empty()) continue;
      if (!filter.asl.empty() && m.asl != filter.asl) continue;
      if (!filter.province.empty() && m.province_abbr != filter.province &&
          m.province_code != filter.province) {
        continue;
      }
      json::object o;
      PutIdentity(o, m.istat_code, &m);
      PutFigures(o, FiguresOf(Impl::SeriesOf(*snap.table, m.istat_code), &m, day));
      list.push_back(std::move(o));
    }
  }
  json::object out;
  out["position"] = snap.position;
  out["day"] = day.ToString();
  out["asl"] = OrNull(filter.asl);
  out["province"] = OrNull(filter.province);
  out["municipalities"] = std::move(list);
  return out;
}

}  // namespace caseledger::projections
