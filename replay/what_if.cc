#include "replay/what_if.h"

#include "domain/event_codec.h"
#include "projections/gp_view.h"
#include "projections/municipality_view.h"
#include "projections/person_directory.h"
#include "projections/school_view.h"
#include "projections/view_runner.h"
#include "replay/rules_log.h"
#include "projections/view_set.h"
#include "replay/what_if_internal.h"

#include <boost/json.hpp>

#include <filesystem>
#include <map>
#include <set>
#include <sstream>

namespace caseledger::replay {
namespace internal {

namespace json = boost::json;

void NoteMeasure(const domain::Event& event, const projections::PersonRecord* r, Measures& measures) {
  if (r == nullptr) return;
  auto ordered = [&](uint32_t id, bool isolation, const std::optional<domain::Date>& given) {
    if (const projections::ActiveMeasure* m = r->FindMeasure(id)) {
      measures[id] = {isolation, m->start, m->end, std::nullopt, given.has_value()};
    }
  };
  if (const auto* q = std::get_if<domain::QuarantineOrdered>(&event)) ordered(q->measure_id, false, q->end);
  if (const auto* i = std::get_if<domain::IsolationOrdered>(&event)) ordered(i->measure_id, true, i->end);
  if (const auto* e = std::get_if<domain::MeasureEnded>(&event)) {
    auto m = measures.find(e->measure_id);
    if (m != measures.end()) m->second.ended_at = e->at;
  }
}

eventstore::StoreResult<void> ForEachPersonEvent(
    eventstore::EventStore& store, uint64_t until,
    const std::function<eventstore::StoreResult<void>(const domain::Envelope&, std::string_view person)>& visit) {
  constexpr std::string_view kPersonPrefix = "person-";
  for (uint64_t from = 1; from <= until;) {
    auto batch = store.ReadLog(from, std::min<uint64_t>(4096, until - from + 1));
    if (!batch) return batch.error();
    if (batch->empty()) break;
    for (const domain::Envelope& env : *batch) {
      from = env.position + 1;
      const std::string_view stream(env.stream);
      if (!stream.starts_with(kPersonPrefix)) continue;
      if (auto done = visit(env, stream.substr(kPersonPrefix.size())); !done) return done;
    }
  }
  return {};
}

eventstore::StoreResult<domain::Event> DecodeEvent(const domain::Envelope& env) {
  auto event = domain::Decode(env.type, env.schema_version, env.body, {});
  if (!event) {
    return eventstore::StoreError(eventstore::StoreErrorCode::kCorruption,
                                  env.type + " does not decode: " + event.error().message, 0, env.position);
  }
  return std::move(*event);
}

void MunicipalityFigures(const projections::MunicipalityFigures& m, Figures& out) {
  out["active_isolations"] = m.active_isolations;
  out["active_quarantines"] = m.active_quarantines;
  out["currently_positive"] = m.currently_positive;
  out["cumulative_cases"] = m.cumulative_cases;
  out["recovered"] = m.recovered;
  out["deceased"] = m.deceased;
  out["new_positives"] = m.new_positives;
  out["new_positives_7d"] = m.new_positives_7d;
}

void SchoolFigures(const projections::SchoolTotals& t, Figures& out) {
  out["students"] = t.students;
  out["staff"] = t.staff;
  out["positive"] = t.positive;
  out["in_quarantine"] = t.in_quarantine;
  out["classes"] = static_cast<int64_t>(t.classes);
  out["classes_not_in_presence"] = t.classes_not_in_presence;
}

void GpFigures(const projections::GpReport& gp, Figures& out) {
  int64_t isolation = 0, quarantine = 0;
  for (const projections::GpPatient& p : gp.patients) {
    bool iso = false, qua = false;
    for (const projections::GpMeasure& m : p.measures) (m.isolation ? iso : qua) = true;
    isolation += iso;
    quarantine += qua;
  }
  out["patients"] = static_cast<int64_t>(gp.patients.size());
  out["in_isolation"] = isolation;
  out["in_quarantine"] = quarantine;
  out["measures_ending"] = static_cast<int64_t>(gp.measures_ending.size());
  out["release_tests_due"] = static_cast<int64_t>(gp.release_tests_due.size());
}

namespace {

std::string StatusOn(const Measures* measures, domain::Date on) {
  if (measures == nullptr) return "none";
  bool quarantine = false;
  for (const auto& [id, m] : *measures) {
    if (m.start <= on && on < m.end()) {
      if (m.isolation) return "isolation";
      quarantine = true;
    }
  }
  return quarantine ? "quarantine" : "none";
}

std::string InForceId(const domain::RuleBook& book, domain::Date start) {
  const domain::RuleSet* s = book.InForce(start);
  return s ? s->id() : "";
}

bool SameSet(const domain::RuleSet* a, const domain::RuleSet* b) {
  return a == nullptr ? b == nullptr : b != nullptr && *a == *b;
}

}  // namespace

void DiffPerson(const std::string& id, const Measures* mb, const Measures* mc, const domain::RuleBook& base_book,
                const domain::RuleBook& cand_book, WhatIfReport& report) {
  static const Measures kNone;
  std::set<uint32_t> mids;
  for (const auto& [mid, m] : mb ? *mb : kNone) mids.insert(mid);
  for (const auto& [mid, m] : mc ? *mc : kNone) mids.insert(mid);
  for (uint32_t mid : mids) {
    const MeasureOutcome* ob = mb && mb->contains(mid) ? &mb->at(mid) : nullptr;
    const MeasureOutcome* oc = mc && mc->contains(mid) ? &mc->at(mid) : nullptr;
    if (ob && oc && ob->end() == oc->end()) continue;
    const MeasureOutcome* any = ob ? ob : oc;
    MeasureChange ch;
    ch.person_id = id;
    ch.measure_id = mid;
    ch.kind = any->isolation ? "isolation" : "quarantine";
    ch.start = any->start;
    if (ob) ch.end_before = ob->end();
    if (oc) ch.end_after = oc->end();
    if (!any->given_end) {
      ch.rule_set_before = InForceId(base_book, any->start);
      ch.rule_set_after = InForceId(cand_book, any->start);
    }
    report.measures.push_back(std::move(ch));
  }
  std::string sb = StatusOn(mb, report.on), sc = StatusOn(mc, report.on);
  if (sb != sc) report.statuses.push_back({id, sb, sc});
}

void DiffCounts(const Counts& base, const Counts& cand, WhatIfReport& report) {
  std::set<CountKey> keys;
  for (const auto& [k, f] : base) keys.insert(k);
  for (const auto& [k, f] : cand) keys.insert(k);
  static const Figures kNone;
  for (const CountKey& k : keys) {
    auto b = base.find(k);
    auto c = cand.find(k);
    const Figures& fb = b == base.end() ? kNone : b->second;
    const Figures& fc = c == cand.end() ? kNone : c->second;
    std::set<std::string> fields;
    for (const auto& [f, v] : fb) fields.insert(f);
    for (const auto& [f, v] : fc) fields.insert(f);
    for (const std::string& f : fields) {
      int64_t vb = fb.contains(f) ? fb.at(f) : 0;
      int64_t vc = fc.contains(f) ? fc.at(f) : 0;
      if (vb != vc) report.counts.push_back({k.first, k.second, f, vb, vc});
    }
  }
}

bool DayRanges::Contains(domain::Date d) const {
  for (const auto& [from, to] : ranges) {
    if (from <= d && (!to || d < *to)) return true;
  }
  return false;
}

DayRanges DaysRulesDiffer(const domain::RuleBook& a, const domain::RuleBook& b) {
  // The set in force only changes on an effective date of one of the books.
  std::set<domain::Date> breaks;
  for (const auto& s : a.sets()) breaks.insert(s.effective_from());
  for (const auto& s : b.sets()) breaks.insert(s.effective_from());
  DayRanges out;
  for (auto it = breaks.begin(); it != breaks.end(); ++it) {
    if (SameSet(a.InForce(*it), b.InForce(*it))) continue;
    auto next = std::next(it);
    std::optional<domain::Date> to = next == breaks.end() ? std::nullopt : std::optional(*next);
    if (!out.ranges.empty() && out.ranges.back().second == *it) {
      out.ranges.back().second = to;
    } else {
      out.ranges.emplace_back(*it, to);
    }
  }
  return out;
}

}  // namespace internal

namespace {

using eventstore::StoreResult;
namespace json = boost::json;
using namespace internal;

struct Side {
  std::map<std::string, Measures> measures;  // person -> measure id ->
  std::set<std::string> people, schools, gps;
  Counts counts;
};

// Folds the person streams of the log through a person directory with `book`, noting each
// measure's planned end when it is ordered (the directory forgets measures once ended).
StoreResult<void> FoldPeople(eventstore::EventStore& store, std::shared_ptr<const domain::RuleBook> book,
                             uint64_t until, Side& side) {
  projections::PersonDirectory directory(book);
  auto folded = ForEachPersonEvent(store, until, [&](const domain::Envelope& env, std::string_view person) {
    auto event = DecodeEvent(env);
    if (!event) return eventstore::StoreResult<void>(event.error());
    directory.Apply(projections::LogEvent{env, *event, person});
    if (const projections::PersonRecord* r = directory.Find(person)) {
      side.people.emplace(person);
      NoteMeasure(*event, r, side.measures[std::string(person)]);
    }
    return eventstore::StoreResult<void>();
  });
  if (!folded) return folded;
  for (const std::string& id : side.people) {
    const projections::PersonRecord* r = directory.Find(id);
    for (const auto& e : r->enrolments) side.schools.insert(e.school);
    if (!r->gp_id.empty()) side.gps.insert(r->gp_id);
  }
  return {};
}

StoreResult<Side> BuildSide(eventstore::EventStore& store, const std::string& path,
                            std::shared_ptr<const domain::RuleBook> book, const WhatIfOptions& o,
                            uint64_t until, domain::Date on) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  projections::RebuildOptions ro;
  ro.path = path;
  ro.until = until;
  ro.rules = book;
  projections::ViewSet set = projections::MakeViewSet({o.reference, book, o.views});
  auto runner = projections::Rebuild(store, std::move(set.views), ro);
  if (!runner) return runner.error();
  Side side;
  if (auto folded = FoldPeople(store, book, until, side); !folded) return folded.error();
  if (const auto* m = set.typed.municipalities) {
    for (const projections::MunicipalityRow& row : m->Municipalities({}, on).municipalities) {
      MunicipalityFigures(row.figures, side.counts[{"municipalities", row.identity.istat_code}]);
    }
  }
  if (const auto* s = set.typed.schools) {
    for (const std::string& code : side.schools) {
      if (auto r = s->School(code, on)) SchoolFigures(r->totals, side.counts[{"schools", code}]);
    }
  }
  if (const auto* g = set.typed.gps) {
    for (const std::string& gp : side.gps) {
      if (auto r = g->Gp(gp, on)) GpFigures(*r, side.counts[{"gps", gp}]);
    }
  }
  runner->reset();
  std::filesystem::remove_all(path, ec);
  return side;
}

void DiffPeople(const Side& base, const Side& cand, const domain::RuleBook& base_book,
                const domain::RuleBook& cand_book, WhatIfReport& report) {
  std::set<std::string> ids = base.people;
  ids.insert(cand.people.begin(), cand.people.end());
  report.people_compared = ids.size();
  for (const std::string& id : ids) {
    auto b = base.measures.find(id);
    auto c = cand.measures.find(id);
    DiffPerson(id, b == base.measures.end() ? nullptr : &b->second, c == cand.measures.end() ? nullptr : &c->second,
               base_book, cand_book, report);
  }
}

std::string DateOr(const std::optional<domain::Date>& d, const char* none) { return d ? d->ToString() : none; }

}  // namespace

size_t WhatIfReport::people_changed() const {
  std::set<std::string> ids;
  for (const auto& m : measures) ids.insert(m.person_id);
  for (const auto& s : statuses) ids.insert(s.person_id);
  return ids.size();
}

StoreResult<WhatIfReport> RunWhatIf(eventstore::EventStore& store, const WhatIfOptions& o) {
  const uint64_t committed = store.CommittedPosition();
  const uint64_t until = o.until != 0 ? std::min(o.until, committed) : committed;
  auto rules = RulesLog::Read(store, until);
  if (!rules) return rules.error();
  WhatIfReport report;
  report.until = until;
  report.candidate_id = o.candidate->id();
  report.candidate_effective_from = o.candidate->effective_from().ToString();
  if (o.on) {
    report.on = *o.on;
  } else if (until > 0) {
    auto last = store.ReadLog(until, 1);
    if (!last) return last.error();
    if (!last->empty()) report.on = last->front().effective_at.ToDate();
  }
  auto base_book = rules->Book();
  auto cand_book = rules->BookWith(*o.candidate);
  auto say = [&](const std::string& line) {
    if (o.progress) o.progress(line);
  };
  if (o.method == WhatIfOptions::Method::kIncremental) {
    std::string why_not;
    if (o.live == nullptr) {
      why_not = "no live views";
    } else if (!o.live_views.municipalities || !o.live_views.schools || !o.live_views.gps) {
      why_not = "the live views lack the municipality, school or GP view";
    } else if (o.live->Position() != until) {
      why_not = "the views stand at position " + std::to_string(o.live->Position()) + ", not " + std::to_string(until);
    } else if (!o.live_rules || o.live_rules->sets() != base_book->sets()) {
      why_not = "the views were built with other rules than the log's up to position " + std::to_string(until);
    }
    if (why_not.empty()) {
      report.method = "incremental";
      if (auto done = internal::RunIncremental(store, o, until, base_book, cand_book, report); !done) {
        return done.error();
      }
      return report;
    }
    say("incremental what-if not possible (" + why_not + "): rebuilding both sides in full");
  }
  report.method = "full";
  say("rebuilding the views under the rules of the log up to position " + std::to_string(until));
  auto base = BuildSide(store, o.work_dir + "/whatif-base", base_book, o, until, report.on);
  if (!base) return base.error();
  say("rebuilding the views under candidate " + o.candidate->id());
  auto cand = BuildSide(store, o.work_dir + "/whatif-candidate", cand_book, o, until, report.on);
  if (!cand) return cand.error();
  DiffPeople(*base, *cand, *base_book, *cand_book, report);
  DiffCounts(base->counts, cand->counts, report);
  return report;
}

std::string WhatIfText(const WhatIfReport& r) {
  std::ostringstream out;
  out << "what-if: rule set " << r.candidate_id << " (effective from " << r.candidate_effective_from
      << ") against the rules of the log, events up to position " << r.until << ", statuses and counts on "
      << r.on.ToString() << "\n";
  out << "people compared: " << r.people_compared << "; people changed: " << r.people_changed()
      << "; measure ends changed: " << r.measures.size() << "; statuses changed: " << r.statuses.size()
      << "; counts changed: " << r.counts.size() << "\n";
  if (!r.measures.empty()) out << "\nmeasure ends (person, measure, start: before -> after):\n";
  for (const auto& m : r.measures) {
    out << "  " << m.person_id << "  " << m.kind << " #" << m.measure_id << " from " << m.start.ToString() << ": "
        << DateOr(m.end_before, "-") << (m.rule_set_before.empty() ? "" : " (" + m.rule_set_before + ")") << " -> "
        << DateOr(m.end_after, "-") << (m.rule_set_after.empty() ? "" : " (" + m.rule_set_after + ")") << "\n";
  }
  if (!r.statuses.empty()) out << "\nstatuses on " << r.on.ToString() << ":\n";
  for (const auto& s : r.statuses) out << "  " << s.person_id << "  " << s.before << " -> " << s.after << "\n";
  if (!r.counts.empty()) out << "\ncounts on " << r.on.ToString() << ":\n";
  for (const auto& c : r.counts) {
    out << "  " << c.view << " " << c.key << " " << c.field << ": " << c.before << " -> " << c.after << "\n";
  }
  return out.str();
}

json::object WhatIfJson(const WhatIfReport& r) {
  json::array measures, statuses, counts;
  auto date_or_null = [](const std::optional<domain::Date>& d) -> json::value {
    return d ? json::value(d->ToString()) : json::value(nullptr);
  };
  auto str_or_null = [](const std::string& s) -> json::value { return s.empty() ? json::value(nullptr) : json::value(s); };
  for (const auto& m : r.measures) {
    measures.push_back({{"person_id", m.person_id}, {"measure_id", m.measure_id}, {"kind", m.kind},
                        {"start", m.start.ToString()}, {"end_before", date_or_null(m.end_before)},
                        {"end_after", date_or_null(m.end_after)}, {"rule_set_before", str_or_null(m.rule_set_before)},
                        {"rule_set_after", str_or_null(m.rule_set_after)}});
  }
  for (const auto& s : r.statuses) statuses.push_back({{"person_id", s.person_id}, {"before", s.before}, {"after", s.after}});
  for (const auto& c : r.counts) {
    counts.push_back({{"view", c.view}, {"key", c.key}, {"field", c.field}, {"before", c.before}, {"after", c.after}});
  }
  return {{"candidate", {{"id", r.candidate_id}, {"effective_from", r.candidate_effective_from}}},
          {"until_position", r.until},
          {"on", r.on.ToString()},
          {"totals", {{"people_compared", r.people_compared}, {"people_changed", r.people_changed()},
                      {"measure_ends_changed", r.measures.size()}, {"statuses_changed", r.statuses.size()},
                      {"counts_changed", r.counts.size()}}},
          {"measures", std::move(measures)},
          {"statuses", std::move(statuses)},
          {"counts", std::move(counts)}};
}

}  // namespace caseledger::replay
