// The GP view's reader (GpView::Gp): a GP's report as of the last Publish, from the frozen
// GPs and, attached, the patient rows the batch of that position wrote. Apart from the
// writer (gp_view.cc): it reads only the published snapshot (gp_view_rows.h).
#include "projections/gp_view.h"

#include "projections/gp_view_rows.h"

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace caseledger::projections {

using namespace gp_rows;  // the rows this view keeps

namespace {

GpMeasure MeasureOf(const MeasureStatus& m) {
  return {m.id, m.isolation, m.reason, m.start, m.end, m.end_given, m.release_with_test_from, m.rule_set};
}

}  // namespace

std::optional<GpReport> GpView::Gp(std::string_view gp, Date today) const {
  const auto snap = Snapshot<FrozenGps>();
  const GpEntry* found = snap.table->gps.Find(gp);
  if (found == nullptr) return std::nullopt;
  const GpEntry& g = *found;

  // (person id, status: null when idle), by person id.
  std::vector<std::pair<std::string_view, const PatientStatus*>> all;
  all.reserve(g.patients);
  std::vector<std::pair<std::string, std::unique_ptr<PatientStatus>>> rows;  // read back (attached)
  if (snap.table->rows) {
    const std::string prefix = std::string(gp) + "/p/";
    auto scanned = snap.table->rows->Scan(prefix, [&](std::string_view key, std::string_view value) {
      auto status = std::make_unique<PatientStatus>();
      if (!Decode(value, *status)) throw std::runtime_error("views entry gps/" + std::string(key) + " does not decode");
      rows.emplace_back(std::string(key.substr(prefix.size())), std::move(status));
    });
    if (!scanned) throw std::runtime_error("reading the patients of " + std::string(gp) + ": " + scanned.error().message);
    for (const auto& [person, status] : rows) all.emplace_back(person, status->idle() ? nullptr : status.get());
  } else {
    for (const auto& b : g.buckets) {
      for (size_t i = 0; b && i < b->size(); ++i) all.emplace_back((*b)[i].id.view(), (*b)[i].status.get());
    }
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  }

  GpReport out;
  out.gp_id = std::string(gp);
  out.position = snap.position;
  out.day = today;
  out.patient_count = g.patients;
  out.patients.reserve(all.size());
  for (const auto& [id, status] : all) {
    GpPatient p;
    p.person_id = std::string(id);
    p.case_open = status && status->case_open;
    for (size_t i = 0; status && i < status->measures.size(); ++i) {
      const MeasureStatus& m = status->measures[i];
      if (m.RunsOn(today)) p.measures.push_back(MeasureOf(m));
      if (m.end == today) out.measures_ending.push_back({p.person_id, m.id, m.isolation, m.end});
      if (m.release_with_test_from == today) {
        out.release_tests_due.push_back({p.person_id, m.id, m.isolation, *m.release_with_test_from});
      }
    }
    for (size_t i = 0; status && i < status->pending.size(); ++i) {
      const PendingSwab& w = status->pending[i];
      p.pending_swabs.push_back({std::string(w.swab_id.view()), w.kind, w.requested_on, w.collected_on});
    }
    out.patients.push_back(std::move(p));
  }
  for (const auto& [day, notes] : g.results) {
    for (size_t i = 0; day == today && i < notes->size(); ++i) {
      const ResultNote& n = (*notes)[i];
      out.results_to_read.push_back({std::string(n.person.view()), std::string(n.swab_id.view()), n.outcome, n.corrected});
    }
  }
  return out;
}

}  // namespace caseledger::projections
