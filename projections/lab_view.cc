#include "projections/lab_view.h"

#include "projections/lab_turnaround.h"
#include "projections/series_table.h"

#include <algorithm>

namespace caseledger::projections {
namespace {

using domain::Date;

constexpr std::string_view kBacklogKey = "*";
constexpr int64_t kMicrosPerMinute = 60'000'000;

enum Column : size_t {
  kResults,
  kPositive,
  kNegative,
  kInconclusive,
  kCorrections,
  kTurnaround0,  // kTurnaroundBuckets histogram columns from here
  kColumns = kTurnaround0 + kTurnaroundBuckets,
};

using LabTable = SeriesTable<kColumns>;
using LabSeries = LabTable::Series;
using BacklogTable = SeriesTable<1>;

struct FrozenLabs {
  std::shared_ptr<const LabTable::Rows> labs;
  std::shared_ptr<const BacklogTable::Rows> backlog;
};

using Histogram = std::array<int64_t, kTurnaroundBuckets>;

Histogram HistogramOf(const LabSeries& s, Date from, Date to) {
  Histogram h{};
  s.Walk(from, to, [&](Date, const LabSeries::Row& row, const auto&) {
    for (int b = 0; b < kTurnaroundBuckets; ++b) h[b] += row[kTurnaround0 + b];
  });
  return h;
}

LabFigures FiguresOf(const LabSeries& s, Date day) {
  LabFigures f;
  auto row = s.At(day);
  f.results = row[kResults];
  f.positive = row[kPositive];
  f.negative = row[kNegative];
  f.inconclusive = row[kInconclusive];
  f.corrections = row[kCorrections];
  f.results_7d = s.Sum(kResults, day + -6, day);
  Histogram h = HistogramOf(s, day + -6, day);
  f.turnaround_median_minutes = TurnaroundQuantile(h, 0.5);
  f.turnaround_p90_minutes = TurnaroundQuantile(h, 0.9);
  return f;
}

}  // namespace

// The labs' table and the backlog's, as one.
class LabView::Impl final : public KeyedTable {
 public:
  LabTable labs;
  BacklogTable backlog;

  // "<lab>/<block>", and "*/<block>" for the backlog.
  bool Load(std::string_view key, std::string_view value) override {
    if (key.starts_with(kBacklogKey) && key.size() > 1 && key[1] == '/') return backlog.Load(key, value);
    return labs.Load(key, value);
  }
  void Persist(PersistSink& sink) override {
    labs.Persist(sink);
    backlog.Persist(sink);
  }
  std::shared_ptr<const void> Freeze() override {
    return std::make_shared<const FrozenLabs>(FrozenLabs{labs.FreezeRows(), backlog.FreezeRows()});
  }
  std::vector<std::string> ChangedKeys() const override {
    std::vector<std::string> keys = labs.ChangedKeys();
    for (std::string& k : backlog.ChangedKeys()) keys.push_back(std::move(k));
    std::sort(keys.begin(), keys.end());
    return keys;
  }
  void Clear() override {
    labs.Clear();
    backlog.Clear();
    backlog_row = PlaceMemo::kUnknown;
  }
  // The backlog's one row (BacklogTable::Id), found once rather than per event.
  uint32_t BacklogRow() {
    if (backlog_row == PlaceMemo::kUnknown) backlog_row = backlog.Id(kBacklogKey);
    return backlog_row;
  }
  uint32_t backlog_row = PlaceMemo::kUnknown;

  static int64_t Backlog(const FrozenLabs& s, Date day) {
    const auto* b = s.backlog ? BacklogTable::FindIn(*s.backlog, kBacklogKey) : nullptr;
    return b ? b->Level(0, day) : 0;
  }
  static const LabSeries* Lab(const FrozenLabs& s, std::string_view lab) {
    return s.labs ? LabTable::FindIn(*s.labs, lab) : nullptr;
  }
};

LabView::LabView() : KeyedView("labs", std::make_unique<Impl>()), impl_(static_cast<Impl*>(&table())) {}
LabView::~LabView() = default;

bool LabView::ReadsRecord(const LogEvent& e, const PersonRecord&) const {
  // A result's swab comes with it from the batch pipeline (LogEvent::swab).
  return std::holds_alternative<domain::ResultRecorded>(e.event) && e.swab == nullptr;
}

EventInterest LabView::Interest() const {
  return {EventTypes<domain::SwabCollected, domain::ResultRecorded, domain::ResultCorrected>(), false};
}

void LabView::Apply(const LogEvent& e, const PersonRecord* person, PersistSink&) {
  if (const auto* c = std::get_if<domain::SwabCollected>(&e.event)) {
    impl_->backlog.AddTo(impl_->BacklogRow(), e.OwnDay(c->collected_at), 0, +1);
  } else if (const auto* r = std::get_if<domain::ResultRecorded>(&e.event)) {
    const SwabRecord* swab = e.swab ? e.swab : person ? person->FindSwab(r->swab_id) : nullptr;
    if (!swab || !swab->collected) {
      throw std::runtime_error("result for swab " + r->swab_id + " that was not collected");
    }
    if (swab->reported()) return;  // a second result is not a result (Decide refuses it)
    Date day = e.OwnDay(r->reported_at);
    Column outcome = r->outcome == domain::Outcome::kPositive   ? kPositive
                     : r->outcome == domain::Outcome::kNegative ? kNegative
                                                                : kInconclusive;
    const uint32_t lab = impl_->labs.Id(r->lab_id);  // once for its three columns
    impl_->labs.AddTo(lab, day, kResults, 1);
    impl_->labs.AddTo(lab, day, outcome, 1);
    int64_t minutes = (r->reported_at.micros - swab->collected_at) / kMicrosPerMinute;
    impl_->labs.AddTo(lab, day, kTurnaround0 + TurnaroundBucket(minutes), 1);
    impl_->backlog.AddTo(impl_->BacklogRow(), day, 0, -1);
  } else if (const auto* x = std::get_if<domain::ResultCorrected>(&e.event)) {
    impl_->labs.Add(x->lab_id, e.OwnDay(x->corrected_at), kCorrections, 1);
  }
}

std::optional<LabFigures> LabView::FiguresOn(std::string_view lab, Date day) const {
  const auto snap = Snapshot<FrozenLabs>();
  const LabSeries* s = Impl::Lab(*snap.table, lab);
  if (!s) return std::nullopt;
  return FiguresOf(*s, day);
}

int64_t LabView::RegionBacklog(Date day) const { return Impl::Backlog(*Snapshot<FrozenLabs>().table, day); }

std::optional<LabReport> LabView::Lab(std::string_view lab, Date day, const DayRange& range) const {
  const auto snap = Snapshot<FrozenLabs>();
  const LabSeries* s = Impl::Lab(*snap.table, lab);
  if (!s) return std::nullopt;
  LabReport o;
  o.lab = std::string(lab);
  o.position = snap.position;
  o.day = day;
  o.figures = FiguresOf(*s, day);
  o.region_backlog = Impl::Backlog(*snap.table, day);
  Date to = range.to.value_or(day);
  Date from = range.from ? *range.from : s->FirstActiveDay().value_or(to + 1);
  if (to - from >= kMaxSeriesDays) from = to + (1 - kMaxSeriesDays);
  if (from <= to) {
    s->Walk(from, to, [&](Date d, const LabSeries::Row& row, const auto&) {
      Histogram h{};
      for (int b = 0; b < kTurnaroundBuckets; ++b) h[b] = row[kTurnaround0 + b];
      LabDay r;
      r.date = d;
      r.results = row[kResults];
      r.positive = row[kPositive];
      r.negative = row[kNegative];
      r.inconclusive = row[kInconclusive];
      r.corrections = row[kCorrections];
      r.turnaround_median_minutes = TurnaroundQuantile(h, 0.5);
      r.turnaround_p90_minutes = TurnaroundQuantile(h, 0.9);
      o.daily.push_back(std::move(r));
    });
  }
  return o;
}

LabList LabView::Labs(Date day) const {
  const auto snap = Snapshot<FrozenLabs>();
  LabList out;
  out.position = snap.position;
  out.day = day;
  out.region_backlog = Impl::Backlog(*snap.table, day);
  if (snap.table->labs) {
    snap.table->labs->ForEach(
        [&](const std::string& id, const LabSeries& series) { out.labs.emplace_back(id, FiguresOf(series, day)); });
  }
  return out;
}

}  // namespace caseledger::projections
