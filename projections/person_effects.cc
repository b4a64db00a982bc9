// PersonDirectory::Effects: what one event changes in the aggregate figures, read from the
// person's record before the event; and StepSpells, the gauges of an open case, shared
// with the directory (person_directory.cc), which moves the record to the state these
// effects describe.
#include "projections/person_directory.h"

#include "projections/person_internal.h"

#include <stdexcept>
#include <string>

namespace caseledger::projections {
namespace {

using domain::Date;

// The runner reports the position and type along with the message.
[[noreturn]] void Fail(const std::string& why) { throw std::runtime_error(why); }

Metric MeasureMetric(const ActiveMeasure& m) { return m.isolation ? Metric::kIsolation : Metric::kQuarantine; }
Metric CareMetric(const PersonRecord& r) { return r.in_icu ? Metric::kIcu : Metric::kWard; }

// The day a swab's result counts: its first report (a correction keeps that day); `e` is
// the result or correction, reported or corrected at `event_time`.
Date ReportDay(const SwabRecord& s, const LogEvent& e, domain::Timestamp event_time) {
  return s.reported() ? Date{s.reported_day} : e.OwnDay(event_time);
}

class SpellStepper {
 public:
  SpellStepper(const PersonRecord& r, std::vector<Spell>& spells, std::vector<Effect>* out)
      : r_(r), spells_(spells), out_(out) {}

  void operator()(const domain::ResidenceChanged& c, Date x) {
    if (c.to_istat == r_.residence_istat) return;
    const size_t n = spells_.size();
    for (size_t i = 0; i < n; ++i) {
      if (spells_[i].to) continue;
      Date from = std::max(x, spells_[i].from);
      Metric m = spells_[i].metric;
      Close(i, from);
      Open(m, c.to_istat, from);
    }
  }
  // A result or correction giving swab `s` the outcome `outcome`.
  void Result(const SwabRecord& s, uint8_t outcome, Date reported) {
    internal::Episode ep = internal::EpisodeWith(r_, s.id_hash, outcome);
    if (!r_.case_open && ep.open) {
      Open(Metric::kPositive, r_.residence_istat, reported);
      if (r_.hospitalized) Open(CareMetric(r_), r_.residence_istat, reported);
    } else if (r_.case_open && !ep.open) {
      // The case never was: every day it counted is taken back.
      for (const Spell& sp : spells_) {
        Emit(sp.metric, sp.from, -1, sp.istat);
        if (sp.to) Emit(sp.metric, *sp.to, +1, sp.istat);
      }
      spells_.clear();
    }
  }
  void operator()(const domain::Hospitalized& c) {
    if (!r_.case_open || r_.hospitalized) return;
    const Spell* pos = Running(Metric::kPositive);
    Open(Metric::kWard, r_.residence_istat, std::max(c.at.ToDate(), pos->from));
  }
  void operator()(const domain::IcuAdmitted& c) {
    if (!r_.case_open || r_.in_icu) return;
    if (r_.hospitalized) {
      Date day = std::max(c.at.ToDate(), Running(Metric::kWard)->from);
      Close(Index(Metric::kWard), day);
      Open(Metric::kIcu, r_.residence_istat, day);
    } else {
      Open(Metric::kIcu, r_.residence_istat, std::max(c.at.ToDate(), Running(Metric::kPositive)->from));
    }
  }
  void operator()(const domain::Discharged& c) {
    if (!r_.case_open || !r_.hospitalized) return;
    size_t i = Index(CareMetric(r_));
    Close(i, std::max(c.at.ToDate(), spells_[i].from));
  }
  void operator()(const domain::CaseClosed& c) {
    if (!r_.case_open) return;
    size_t i = Index(Metric::kPositive);
    Date day = std::max(c.at, spells_[i].from);
    Close(i, day);
    if (r_.hospitalized) {
      size_t k = Index(CareMetric(r_));
      Close(k, std::max(day, spells_[k].from));
    }
    spells_.clear();  // the case is over: nothing left to take back
  }

 private:
  size_t Index(Metric m) const {
    for (size_t i = 0; i < spells_.size(); ++i) {
      if (spells_[i].metric == m && !spells_[i].to) return i;
    }
    Fail("the open case has no running spell for its state");
  }
  const Spell* Running(Metric m) const { return &spells_[Index(m)]; }
  void Open(Metric m, std::string_view istat, Date from) {
    spells_.push_back({m, std::string(istat), from, std::nullopt});
    Emit(m, from, +1, istat);
  }
  void Close(size_t i, Date to) {
    spells_[i].to = to;
    Emit(spells_[i].metric, to, -1, spells_[i].istat);
  }
  void Emit(Metric m, Date day, int32_t delta, std::string_view istat) {
    if (out_) out_->push_back({m, day, delta, std::string(istat), domain::SwabKind::kMolecular, PlaceOf(istat)});
  }

  const PersonRecord& r_;
  std::vector<Spell>& spells_;
  std::vector<Effect>* out_;
};

struct EffectsOf {
  const PersonRecord& r;
  const LogEvent& e;
  const domain::RuleBook* rules;
  std::vector<Effect>& out;

  void Add(Metric m, Date day, int32_t delta, std::string_view istat,
           domain::SwabKind test = domain::SwabKind::kMolecular) {
    out.push_back({m, day, delta, std::string(istat), test, PlaceOf(istat)});
  }
  const SwabRecord& Swab(const std::string& id) {
    const SwabRecord* s = r.FindSwabHash(e.SwabHash(id));
    if (!s) Fail("swab " + id + " was never requested by this person");
    return *s;
  }
  void Spells() {
    std::vector<Spell> spells = r.spells;
    internal::StepSpells(r, e, spells, &out);
  }

  void operator()(const domain::ResidenceChanged& c) {
    if (c.to_istat == r.residence_istat) return;
    Spells();
    const Date x = e.EffectiveDay();
    for (const ActiveMeasure& m : r.measures) {
      Date from = std::max(x, m.since);
      if (from >= m.end) continue;
      Add(MeasureMetric(m), from, -1, m.istat);
      Add(MeasureMetric(m), m.end, +1, m.istat);
      Add(MeasureMetric(m), from, +1, c.to_istat);
      Add(MeasureMetric(m), m.end, -1, c.to_istat);
    }
  }
  void operator()(const domain::SwabCollected& c) {
    const SwabRecord& s = Swab(c.swab_id);
    if (s.collected) Fail("swab " + c.swab_id + " collected twice");
    Date day = e.OwnDay(c.collected_at);
    Add(Metric::kSwab, day, +1, r.residence_istat, s.kind);
    if (!r.tested()) Add(Metric::kFirstSwab, day, +1, r.residence_istat);
  }
  void operator()(const domain::ResultRecorded& c) {
    const SwabRecord& s = Swab(c.swab_id);
    NewPositive(s, static_cast<uint8_t>(c.outcome), ReportDay(s, e, c.reported_at));
  }
  void operator()(const domain::ResultCorrected& c) {
    const SwabRecord& s = Swab(c.swab_id);
    NewPositive(s, static_cast<uint8_t>(c.outcome), ReportDay(s, e, c.corrected_at));
  }
  void operator()(const domain::IsolationOrdered& c) { Order(true, c.start, c.reason, c.end); }
  void operator()(const domain::QuarantineOrdered& c) { Order(false, c.start, c.reason, c.end); }
  void operator()(const domain::MeasureEnded& c) {
    const ActiveMeasure* m = r.FindMeasure(c.measure_id);
    if (!m) Fail("measure " + std::to_string(c.measure_id) + " is not running");
    // A measure is never longer than its planned end; ending it early moves the end.
    Date stop = std::max(std::min(c.at, m->end), m->since);
    if (stop == m->end) return;
    Add(MeasureMetric(*m), m->end, +1, m->istat);
    Add(MeasureMetric(*m), stop, -1, m->istat);
  }
  void operator()(const domain::Hospitalized&) { Spells(); }
  void operator()(const domain::IcuAdmitted&) { Spells(); }
  void operator()(const domain::Discharged&) { Spells(); }
  void operator()(const domain::CaseClosed& c) {
    if (!r.case_open || !r.case_reported_on) Fail("the person has no open case");
    // Not before the case was counted: a result reported after the closure day would
    // otherwise close the case before it opened in the series.
    Date day = std::max(c.at, *r.case_reported_on);
    bool died = c.outcome == domain::CaseOutcome::kDeceased;
    Add(died ? Metric::kDeceased : Metric::kRecovered, day, +1, r.residence_istat);
    Spells();
  }
  // Registry events and events of other streams change no figure.
  template <class Other>
  void operator()(const Other&) {}

  void NewPositive(const SwabRecord& s, uint8_t outcome, Date reported) {
    internal::Episode ep = internal::EpisodeWith(r, s.id_hash, outcome);
    if (!r.case_open && ep.open) {
      Add(Metric::kNewPositive, reported, +1, r.residence_istat, s.kind);
    } else if (r.case_open && !ep.open) {
      if (!r.case_reported_on) Fail("open case without a report day");
      Add(Metric::kNewPositive, *r.case_reported_on, -1, r.case_istat, r.case_test);
    } else {
      return;
    }
    Spells();
  }
  void Order(bool isolation, Date start, const std::string& reason, const std::optional<Date>& given) {
    Date end = internal::PlannedEnd(rules, r, isolation, start, reason, given);
    if (end <= start) return;
    Metric m = isolation ? Metric::kIsolation : Metric::kQuarantine;
    Add(m, start, +1, r.residence_istat);
    Add(m, end, -1, r.residence_istat);
  }
};

}  // namespace

namespace internal {

void StepSpells(const PersonRecord& record, const LogEvent& e, std::vector<Spell>& spells,
                std::vector<Effect>* out) {
  SpellStepper step(record, spells, out);
  if (const auto* c = std::get_if<domain::ResidenceChanged>(&e.event)) {
    step(*c, e.EffectiveDay());
  } else if (const auto* x = std::get_if<domain::ResultRecorded>(&e.event)) {
    if (const SwabRecord* s = record.FindSwabHash(e.SwabHash(x->swab_id))) {
      step.Result(*s, static_cast<uint8_t>(x->outcome), ReportDay(*s, e, x->reported_at));
    }
  } else if (const auto* x = std::get_if<domain::ResultCorrected>(&e.event)) {
    if (const SwabRecord* s = record.FindSwabHash(e.SwabHash(x->swab_id))) {
      step.Result(*s, static_cast<uint8_t>(x->outcome), ReportDay(*s, e, x->corrected_at));
    }
  } else if (const auto* x = std::get_if<domain::Hospitalized>(&e.event)) {
    step(*x);
  } else if (const auto* x = std::get_if<domain::IcuAdmitted>(&e.event)) {
    step(*x);
  } else if (const auto* x = std::get_if<domain::Discharged>(&e.event)) {
    step(*x);
  } else if (const auto* x = std::get_if<domain::CaseClosed>(&e.event)) {
    step(*x);
  }
}

}  // namespace internal

void PersonDirectory::Effects(const LogEvent& e, std::vector<Effect>& out) const {
  Effects(e, Find(e.person_id), out);
}

void PersonDirectory::Effects(const LogEvent& e, const PersonRecord* r, std::vector<Effect>& out) const {
  if (e.person_id.empty()) return;
  if (!r) {
    if (std::holds_alternative<domain::PersonRegistered>(e.event)) return;
    Fail("person " + std::string(e.person_id) + " was never registered");
  }
  std::visit(EffectsOf{*r, e, rules_.get(), out}, e.event);
}

}  // namespace caseledger::projections
