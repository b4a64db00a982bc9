// One day of the demo workload: the plan that makes the day's figures those of the scaled
// series (see demo_workload.h).
#include <algorithm>
#include <optional>
#include <tuple>
#include <unordered_set>

#include "workload/demo_simulation.h"

namespace caseledger::workload {

using domain::Date;
using domain::MeasureKind;
using domain::Outcome;
using domain::SwabKind;
using domain::Timestamp;

namespace {

constexpr int64_t kMinute = 60'000'000;
// Share of positives whose swab is collected the day before their report, and of other
// results reported the next morning.
constexpr double kPositiveReportedNextDay = 0.3;
constexpr double kNegativeReportedNextDay = 0.25;
// Share of positives found among contacts in quarantine (the rest come with symptoms).
constexpr double kPositiveFromContacts = 0.35;
// Contacts: released by a negative swab from day 10, else quarantine ends on day 14.
constexpr int kReleaseAfterDays = 10;
constexpr int kQuarantineDays = 14;

Timestamp Plus(Timestamp t, int minutes) { return {t.micros + minutes * kMinute}; }

uint32_t ActiveMeasureId(const domain::PersonState& s, MeasureKind kind) {
  const domain::MeasureState* m = s.ActiveMeasure(kind);
  return m ? m->id : 0;
}

}  // namespace

void DemoSimulation::RunDay(size_t index) {
  const ScaledDay& t = series_.days[index];
  const Date d = t.day;
  const bool last = index + 1 == series_.days.size();
  // people_.Trim() may write out anyone not used lately: it is called only where no
  // reference into people_ is held (between the steps of the day).
  people_.Trim();
  ReportPending(d);
  people_.Trim();
  EndElapsedQuarantines(d);
  people_.Trim();
  const std::vector<size_t> recovering = PickRecoveries(d, t.recoveries - recoveries_);

  // Positives reported today whose swab is taken today, and those taken today for tomorrow.
  const int64_t today = std::max<int64_t>(0, t.new_positives - positives_);
  int64_t tomorrow = 0;
  if (!last) {
    const int64_t next = series_.days[index + 1].new_positives - (positives_ + today);
    for (int64_t i = 0; i < next; ++i) tomorrow += random_.Chance(kPositiveReportedNextDay);
  }
  // The day's swabs go to today's positives, then to recoveries (when they run out, the
  // oldest cases are released without a test, as the long positives of the time were),
  // to tomorrow's positives, to contacts ending quarantine, then to others.
  const int64_t budget = std::max<int64_t>(0, t.swabs - swabs_);
  const int64_t untested = std::max<int64_t>(0, today + int64_t(recovering.size()) - budget);
  const int64_t required = today + static_cast<int64_t>(recovering.size()) - untested;
  tomorrow = std::clamp<int64_t>(tomorrow, 0, std::max<int64_t>(0, budget - required));
  int64_t others = std::max<int64_t>(0, budget - required - tomorrow);
  const std::vector<size_t> releases = PickReleases(d, others);
  others -= static_cast<int64_t>(releases.size());

  // Antigen swabs the others cannot carry (from 2022 most swabs were antigen tests, more
  // than what is left after positives and closures) are the closures' release tests, then
  // the positives' swabs.
  const bool antigen_era = d >= Date::FromYmd(2021, 1, 15);
  const int64_t antigen_target = antigen_era ? std::max<int64_t>(0, t.antigen_swabs - antigen_swabs_) : 0;
  antigen_extra_ = std::max<int64_t>(0, antigen_target - others);
  for (size_t i = 0; i < recovering.size(); ++i) {
    people_.Trim();
    Recover(recovering[i], d, int64_t(i) >= untested);
  }
  // One pass instead of an erase per recovery (open_ holds ~10^5 cases at 1:1 in 2022):
  // Recover's release tests are negative, so nobody joins open_ meanwhile.
  const std::unordered_set<size_t> recovered(recovering.begin(), recovering.end());
  std::erase_if(open_, [&](const OpenCase& c) { return recovered.contains(c.person); });
  for (size_t p : releases) {
    people_.Trim();
    Release(p, d);
  }
  for (int64_t i = 0; i < today + tomorrow; ++i) {
    people_.Trim();
    PositiveSwab(d, i < today);
  }
  antigen_extra_ = 0;
  const int64_t antigen =
      antigen_era ? std::clamp<int64_t>(t.antigen_swabs - antigen_swabs_, 0, others) : 0;
  for (int64_t i = 0; i < others; ++i) {
    people_.Trim();
    const bool first_test = newly_tested_ < t.newly_tested;
    OtherSwab(d, i < antigen ? SwabKind::kAntigen : SwabKind::kMolecular,
              last || !random_.Chance(kNegativeReportedNextDay), first_test);
  }
  Deaths(d, t.deaths - deaths_);
  FollowHospitalLevels(d, t.ward, t.icu);
}

void DemoSimulation::ReportPending(Date d) {
  std::vector<PendingResult> pending = std::move(pending_);
  pending_.clear();
  for (PendingResult& r : pending) {
    people_.Trim();
    Report(r.person, r.swab_id, r.outcome, At(d, 8 * 60, 9 * 60));
  }
}

void DemoSimulation::EndElapsedQuarantines(Date d) {
  std::vector<size_t> still;
  for (size_t p : quarantined_) {
    if (!people_[p].quarantine_listed) continue;
    const Date end = people_[p].quarantine_start + kQuarantineDays;
    const uint32_t id = ActiveMeasureId(people_[p].state, MeasureKind::kQuarantine);
    if (end > d || id == 0) {
      if (id != 0) still.push_back(p);
      else people_[p].quarantine_listed = false;
      continue;
    }
    people_[p].quarantine_listed = false;
    Apply(p, domain::EndMeasure{id, end, domain::MeasureEndReason::kElapsed},
          At(d, 7 * 60, 8 * 60));
  }
  quarantined_ = std::move(still);
}

std::vector<size_t> DemoSimulation::PickRecoveries(Date d, int64_t count) {
  // Oldest cases first, at home before those in a ward; nobody recovers from intensive care
  // in one step, nor on the day of the positive swab. Keys are taken once (a person's look-up
  // per comparison was a tenth of the 1:1 generator), and only the first `count` are sorted.
  const size_t k = size_t(std::max<int64_t>(0, count));
  if (k == 0) return {};
  std::vector<std::tuple<bool, Date, size_t>> candidates;
  for (const OpenCase& c : open_) {
    if (c.positive_day < d && c.care != Care::kIcu) candidates.emplace_back(c.care != Care::kHome, c.positive_day, c.person);
  }
  const size_t n = std::min(k, candidates.size());
  std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(n), candidates.end());
  std::vector<size_t> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = std::get<2>(candidates[i]);
  return out;
}

std::vector<size_t> DemoSimulation::PickReleases(Date d, int64_t count) {
  std::vector<size_t> candidates;
  for (size_t p : quarantined_) {
    if (people_[p].quarantine_listed && people_[p].quarantine_start + kReleaseAfterDays <= d)
      candidates.push_back(p);
  }
  std::sort(candidates.begin(), candidates.end(), [&](size_t a, size_t b) {
    return std::pair(people_[a].quarantine_start, a) < std::pair(people_[b].quarantine_start, b);
  });
  candidates.resize(std::clamp<size_t>(size_t(std::max<int64_t>(0, count)), 0, candidates.size()));
  return candidates;
}

void DemoSimulation::Recover(size_t p, Date d, bool tested) {
  if (CareOf(p) == Care::kWard) {
    const Timestamp at = At(d, 8 * 60, 9 * 60);
    Apply(p, domain::Discharge{at, Facility(p)}, at);
  }
  const Timestamp reported = tested ? *Swab(p, At(d, 9 * 60, 12 * 60), ExtraAntigenKind(),
                                            "release", Outcome::kNegative, true)
                                    : At(d, 12 * 60, 13 * 60);
  if (uint32_t id = ActiveMeasureId(people_[p].state, MeasureKind::kIsolation)) {
    const auto reason =
        tested ? domain::MeasureEndReason::kNegativeTest : domain::MeasureEndReason::kElapsed;
    Apply(p, domain::EndMeasure{id, d, reason}, Plus(reported, 5));
  }
  Apply(p, domain::CloseCase{domain::CaseOutcome::kRecovered, d}, Plus(reported, 10));
  ++recoveries_;
  ++report_.recoveries;
}

SwabKind DemoSimulation::ExtraAntigenKind() {
  if (antigen_extra_ <= 0) return SwabKind::kMolecular;
  --antigen_extra_;
  return SwabKind::kAntigen;
}

void DemoSimulation::Release(size_t p, Date d) {
  const Timestamp reported =
      *Swab(p, At(d, 9 * 60, 12 * 60), ExtraAntigenKind(), "release", Outcome::kNegative, true);
  if (uint32_t id = ActiveMeasureId(people_[p].state, MeasureKind::kQuarantine)) {
    Apply(p, domain::EndMeasure{id, d, domain::MeasureEndReason::kNegativeTest}, Plus(reported, 5));
  }
  people_[p].quarantine_listed = false;
}

void DemoSimulation::PositiveSwab(Date d, bool report_today) {
  const Timestamp collected = At(d, 9 * 60 + 20, 12 * 60);
  // A contact in quarantine not swabbed today, drawn by rejection (a scan of the list per
  // positive made the 1:1 load quadratic: ~10^5 contacts times ~10^4 positives a day).
  std::optional<size_t> contact;
  if (!quarantined_.empty() && random_.Chance(kPositiveFromContacts)) {
    for (int attempt = 0; attempt < 16 && !contact; ++attempt) {
      const size_t p = quarantined_[random_.Below(quarantined_.size())];
      if (people_[p].quarantine_listed && people_[p].swabbed_on != d) contact = p;
    }
  }
  const size_t p = contact ? *contact : Register(Plus(collected, -20), nullptr, {});
  Swab(p, collected, ExtraAntigenKind(), contact ? "contact" : "symptoms", Outcome::kPositive,
       report_today);
}

void DemoSimulation::OtherSwab(Date d, SwabKind kind, bool report_today, bool first_test) {
  const Timestamp collected = At(d, 9 * 60 + 20, 12 * 60);
  std::optional<size_t> person;
  for (int attempt = 0; !first_test && !tested_.empty() && attempt < 8 && !person; ++attempt) {
    const size_t p = tested_[random_.Below(tested_.size())];
    const domain::PersonState& s = people_[p].state;
    if (!s.deceased() && !s.case_open && people_[p].swabbed_on != d &&
        !s.ActiveMeasure(MeasureKind::kIsolation) && !s.ActiveMeasure(MeasureKind::kQuarantine)) {
      person = p;
    }
  }
  const std::string reason = person ? "screening" : random_.Chance(0.5) ? "symptoms" : "screening";
  if (!person) person = Register(Plus(collected, -20), nullptr, {});
  Swab(*person, collected, kind, reason, Outcome::kNegative, report_today);
}

void DemoSimulation::Deaths(Date d, int64_t count) {
  // Intensive care first, then the ward, then the oldest at home.
  if (count <= 0) return;
  std::vector<std::tuple<int, int, size_t>> ranked;
  for (const OpenCase& c : open_) {
    if (c.positive_day >= d) continue;
    ranked.emplace_back(c.care == Care::kIcu ? 0 : c.care == Care::kWard ? 1 : 2, -c.age, c.person);
  }
  const size_t n = std::min(size_t(count), ranked.size());
  std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(n), ranked.end());
  for (size_t i = 0; i < n; ++i) {
    const size_t p = std::get<2>(ranked[i]);
    Apply(p, domain::CloseCase{domain::CaseOutcome::kDeceased, d}, At(d, 20 * 60 + 30, 21 * 60));
    std::erase_if(open_, [p](const OpenCase& c) { return c.person == p; });
    if (in_range_) {
      ++deaths_;
      ++report_.deaths;
    }
  }
}

size_t DemoSimulation::PickElderly(const std::vector<size_t>& candidates) {
  // The oldest of three drawn: admissions lean old without being all of the oldest.
  size_t best = random_.Below(candidates.size());
  for (int i = 0; i < 2; ++i) {
    const size_t other = random_.Below(candidates.size());
    if (open_[candidates[other]].age > open_[candidates[best]].age)
      best = other;
  }
  return best;
}

void DemoSimulation::FollowHospitalLevels(Date d, int64_t ward, int64_t icu) {
  // Indexes into open_, by care.
  std::vector<size_t> home, in_ward, in_icu;
  for (size_t i = 0; i < open_.size(); ++i) {
    (open_[i].care == Care::kIcu ? in_icu : open_[i].care == Care::kWard ? in_ward : home).push_back(i);
  }
  std::vector<size_t> moved;
  const Timestamp at = At(d, 21 * 60, 22 * 60);
  auto take = [](std::vector<size_t>& from, size_t i) {
    const size_t p = from[i];
    from.erase(from.begin() + static_cast<std::ptrdiff_t>(i));
    return p;
  };
  auto size = [](const std::vector<size_t>& v) { return static_cast<int64_t>(v.size()); };
  while (size(in_icu) > icu) {  // stepped down to the ward
    const size_t i = take(in_icu, random_.Below(in_icu.size()));
    const size_t p = open_[i].person;
    Apply(p, domain::Discharge{at, Facility(p)}, at);
    Apply(p, domain::Hospitalize{at, Facility(p)}, at);
    in_ward.push_back(i);
    moved.push_back(i);
  }
  while (size(in_icu) < icu && !(in_ward.empty() && home.empty())) {
    const size_t i =
        in_ward.empty() ? take(home, PickElderly(home)) : take(in_ward, PickElderly(in_ward));
    const size_t p = open_[i].person;
    Apply(p, domain::AdmitToIcu{at, Facility(p)}, at);
    in_icu.push_back(i);
    moved.push_back(i);
  }
  while (size(in_ward) > ward) {
    const size_t i = take(in_ward, random_.Below(in_ward.size()));
    const size_t p = open_[i].person;
    Apply(p, domain::Discharge{at, Facility(p)}, at);
    home.push_back(i);
    moved.push_back(i);
  }
  while (size(in_ward) < ward && !home.empty()) {
    const size_t i = take(home, PickElderly(home));
    const size_t p = open_[i].person;
    Apply(p, domain::Hospitalize{at, Facility(p)}, at);
    in_ward.push_back(i);
    moved.push_back(i);
  }
  // The care of those moved as their state has it now (a rejected command moves nobody).
  for (size_t i : moved) open_[i].care = CareOf(open_[i].person);
  if (in_range_ && (size(in_ward) != ward || size(in_icu) != icu)) ++report_.hospital_days_off;
}

}  // namespace caseledger::workload
