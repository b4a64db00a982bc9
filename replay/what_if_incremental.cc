// The incremental what-if (what_if.h): the live views are the base side; only the people a
// candidate can change are folded again, from their own streams, under both books.
//
// Why that is the whole difference: the rules enter the views in four places only, and
// each is a function of a day on which the two books may disagree (DaysRulesDiffer):
// 1. a person's measure end (and in the GP view its release-with-test day and rule set)
//    comes from the set in force on the measure's start: people with a measure starting
//    on such a day are "affected"; every other person folds the same under both books;
// 2. a class quarantine order's end comes from the set in force on its start: the school
//    figures re-resolve every order under the candidate (SchoolView::SchoolUnder), and the people
//    of a class whose order starts on such a day are affected too (issue #14: a person
//    reached through a class is in the affected set);
// 3. a class status on the reference day comes from the set in force on that day: when
//    the books disagree on it, every school is compared;
// 4. nothing else (contacts are the contact's own QuarantineOrdered: case 1).
// A person's record, GP patient row and school member entry depend on their own events
// only, so folding an affected person alone gives exactly their part of the full views.
// The municipality and GP figures are sums over people (counters by day; patients of a
// GP): the candidate's are the live ones plus (candidate − base) of the affected people.
// The school figures are not sums (a class status depends on all its members): they are
// computed again from the live classes with the affected members' candidate entries.
//
// The affected people come from the live views' measure-start index (projections/FORMAT.md),
// at the views' position, which is `until`: a range read per stretch of changed days.
//
// Memory: the affected people are folded in chunks sized by the budget; what outlives a
// chunk is the affected ids, the per-key differences, the report, and the school overlay
// (the affected people's school member entries only).
#include "domain/event_codec.h"
#include "projections/gp_view.h"
#include "projections/municipality_view.h"
#include "projections/school_view.h"
#include "projections/view_runner.h"
#include "replay/what_if_internal.h"

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <future>
#include <map>
#include <optional>
#include <set>
#include <thread>

namespace caseledger::replay::internal {
namespace {

using eventstore::StoreError;
using eventstore::StoreErrorCode;
using eventstore::StoreResult;
namespace json = boost::json;

constexpr std::string_view kPersonPrefix = "person-";
// What one affected person may hold while their chunk is folded, both sides together: two
// records, their GP patient rows, their stream decoded (~20-60 events). Generous, so that a
// budget is not exceeded by people with long histories.
constexpr size_t kBytesPerPerson = 32 << 10;
constexpr size_t kDefaultBudget = size_t{256} << 20;

class NullSink final : public projections::PersistSink {
 public:
  void Put(std::string_view, std::string_view) override {}
  void Delete(std::string_view) override {}
};

bool Wanted(const WhatIfOptions& o, std::string_view view) {
  return o.views.empty() || std::find(o.views.begin(), o.views.end(), view) != o.views.end();
}

// One side's fold of some people alone: their records and their part of the views whose
// figures are sums (municipalities, GPs), plus, for the candidate, the school overlay.
struct Fold {
  Fold(std::shared_ptr<const domain::ReferenceData> reference, std::shared_ptr<const domain::RuleBook> book,
       const WhatIfOptions& o)
      : directory(book) {
    if (Wanted(o, "municipalities")) municipalities = std::make_unique<projections::MunicipalityView>(reference);
    if (Wanted(o, "gps")) gps = std::make_unique<projections::GpView>(book);
  }
  projections::PersonDirectory directory;
  std::unique_ptr<projections::MunicipalityView> municipalities;
  std::unique_ptr<projections::GpView> gps;
};

// The events of a person up to `until`, decoded, in stream order.
struct PersonEvents {
  std::vector<domain::Envelope> envelopes;
  std::vector<domain::Event> events;
};

// The streams of ids[from, to), read on `threads` threads (each a contiguous slice, read
// in one pass of the log in position order: EventStore::ReadStreamsSealed), in the order
// of `ids`: the reads are most of a person's cost, and they run beside the fold of the
// chunk before. Personal parts stay sealed: the fold, as the views', never reads them.
StoreResult<std::vector<PersonEvents>> ReadPeople(eventstore::EventStore& store, const std::vector<std::string>& ids,
                                                  size_t from, size_t to, uint64_t until, size_t threads) {
  std::vector<PersonEvents> out(to - from);
  std::vector<std::optional<StoreError>> errors(threads);
  auto read_slice = [&](size_t t) {
    const size_t n = to - from, begin = n * t / threads, end = n * (t + 1) / threads;
    std::vector<std::string> streams;
    streams.reserve(end - begin);
    for (size_t k = begin; k < end; ++k) streams.push_back(std::string(kPersonPrefix) + ids[from + k]);
    std::vector<std::vector<domain::Envelope>> read;
    if (auto r = store.ReadStreamsSealed(streams, until, read); !r) {
      errors[t] = r.error();
      return;
    }
    for (size_t k = begin; k < end; ++k) {
      PersonEvents& pe = out[k];
      pe.envelopes = std::move(read[k - begin]);
      pe.events.reserve(pe.envelopes.size());
      for (const domain::Envelope& env : pe.envelopes) {
        auto event = DecodeEvent(env);
        if (!event) {
          errors[t] = event.error();
          return;
        }
        pe.events.push_back(std::move(*event));
      }
    }
  };
  std::vector<std::thread> workers;
  for (size_t t = 1; t < threads; ++t) workers.emplace_back(read_slice, t);
  read_slice(0);
  for (auto& w : workers) w.join();
  for (auto& e : errors) {
    if (e) return *e;
  }
  return out;
}

// Applies one person's events to a side (the runner's order: effects and views from the
// record before the event, then the directory), noting their measures.
void FoldPerson(const std::string& person, const PersonEvents& pe, Fold& side, projections::SchoolView* schools,
                Measures& measures) {
  NullSink sink;
  std::vector<projections::Effect> effects;
  for (size_t i = 0; i < pe.events.size(); ++i) {
    const projections::PersonRecord* before = side.directory.Find(person);
    effects.clear();
    side.directory.Effects(projections::LogEvent{pe.envelopes[i], pe.events[i], person}, before, effects);
    const projections::LogEvent e{pe.envelopes[i], pe.events[i], person, effects};
    if (side.municipalities) side.municipalities->Apply(e, before, sink);
    if (side.gps) side.gps->Apply(e, before, sink);
    if (schools) schools->Apply(e, before, sink);
    side.directory.Apply(e, before);
    NoteMeasure(pe.events[i], side.directory.Find(person), measures);
  }
}

// Where a side's fold of a chunk stopped: the index in `ids` of the person whose events
// it could not apply (SIZE_MAX: none) and why.
struct SideError {
  size_t at = SIZE_MAX;
  std::optional<std::string> why;
};

// Folds ids[from, to) (their events: people[k - from]) into one side, noting each one's
// measures in measures[k - from]; stops at the first person it cannot fold.
void FoldSide(const std::vector<std::string>& ids, size_t from, size_t to, const std::vector<PersonEvents>& people,
              Fold& side, projections::SchoolView* schools, std::vector<Measures>& measures, SideError& error) {
  for (size_t k = from; k < to; ++k) {
    try {
      FoldPerson(ids[k], people[k - from], side, schools, measures[k - from]);
    } catch (const std::exception& ex) {
      error.at = k;
      error.why = "person " + ids[k] + ": " + ex.what();
      return;
    }
  }
}

void AddInto(Figures& into, const Figures& add, int sign) {
  for (const auto& [field, v] : add) into[field] += sign * v;
}
bool AllZero(const Figures& f) {
  return std::all_of(f.begin(), f.end(), [](const auto& kv) { return kv.second == 0; });
}

// The people with a measure starting on a day the books disagree on, from the live views'
// measure-start index (a range read per stretch of days, not a scan of the log).
StoreResult<std::set<std::string>> AffectedPeople(const projections::ViewRunner& live, const DayRanges& days) {
  std::set<std::string> affected;
  for (const auto& [from, to] : days.ranges) {
    auto read = live.ForEachMeasureStart(from, to, [&](std::string_view person) { affected.emplace(person); });
    if (!read) return read.error();
  }
  return affected;
}

}  // namespace

StoreResult<void> RunIncremental(eventstore::EventStore& store, const WhatIfOptions& o, uint64_t until,
                                 std::shared_ptr<const domain::RuleBook> base_book,
                                 std::shared_ptr<const domain::RuleBook> cand_book, WhatIfReport& report) {
  const projections::ViewRunner& live = *o.live;
  auto say = [&](const std::string& line) {
    if (o.progress) o.progress(line);
  };
  const auto started = std::chrono::steady_clock::now();
  const DayRanges days = DaysRulesDiffer(*base_book, *cand_book);
  auto affected = AffectedPeople(live, days);
  if (!affected) return affected.error();
  report.people_compared = live.RegisteredPeople();

  const projections::SchoolView* live_schools = Wanted(o, "schools") ? o.live_views.schools : nullptr;
  std::set<std::string> schools_to_compare;
  if (live_schools) {
    for (const auto& order : live_schools->ClassOrders()) {
      if (!days.Contains(order.start)) continue;
      schools_to_compare.insert(order.school);
      affected->insert(order.members.begin(), order.members.end());
    }
  }
  say("incremental what-if: " + std::to_string(affected->size()) + " of " + std::to_string(live.RegisteredPeople()) +
      " people have a measure or class order on a day the candidate changes; folding them again");

  const size_t budget = o.memory_budget != 0 ? o.memory_budget : kDefaultBudget;
  // Two chunks are in memory at once: the one folded and the next one read.
  const size_t chunk = std::max<size_t>(64, budget / kBytesPerPerson / 2);
  const size_t readers = std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 4);
  projections::SchoolView overlay(cand_book);  // the affected people's member entries under the candidate
  std::map<std::string, Figures> municipality_delta, gp_delta;
  std::vector<std::string> ids(affected->begin(), affected->end());
  affected->clear();
  NullSink sink;
  auto read_chunk = [&](size_t at) {
    return std::async(std::launch::async, [&, at] {
      return ReadPeople(store, ids, at, std::min(ids.size(), at + chunk), until, readers);
    });
  };
  std::future<StoreResult<std::vector<PersonEvents>>> next;
  if (!ids.empty()) next = read_chunk(0);
  for (size_t at = 0; at < ids.size(); at += chunk) {
    auto people = next.get();
    if (!people) return people.error();
    if (at + chunk < ids.size()) next = read_chunk(at + chunk);
    Fold base(o.reference, base_book, o), cand(o.reference, cand_book, o);
    const size_t end = std::min(ids.size(), at + chunk);
    // The two sides share nothing but the events read (const): the candidate's runs on a
    // thread of its own (with the school overlay, which only it feeds), so that the fold,
    // most of a what-if's CPU, takes both cores. Each person's measures are kept for the
    // diff below, in the order of `ids`.
    std::vector<Measures> base_measures(end - at), cand_measures(end - at);
    SideError base_error, cand_error;
    std::thread cand_thread([&] {
      FoldSide(ids, at, end, *people, cand, live_schools ? &overlay : nullptr, cand_measures, cand_error);
    });
    FoldSide(ids, at, end, *people, base, nullptr, base_measures, base_error);
    cand_thread.join();
    // The first person in `ids` whose fold failed (the base side first), as a fold of
    // both sides one person at a time would have stopped.
    if (base_error.at < cand_error.at || (base_error.at == cand_error.at && base_error.why)) {
      if (base_error.why) return StoreError(StoreErrorCode::kCorruption, *base_error.why);
    }
    if (cand_error.why) return StoreError(StoreErrorCode::kCorruption, *cand_error.why);
    std::set<std::string> gps;
    for (size_t k = at; k < end; ++k) {
      const std::string& id = ids[k];
      if (const projections::PersonRecord* r = base.directory.Find(id)) {
        DiffPerson(id, &base_measures[k - at], &cand_measures[k - at], *base_book, *cand_book, report);
        if (!r->gp_id.empty()) gps.insert(r->gp_id);
        for (const auto& e : r->enrolments) schools_to_compare.insert(e.school);
      }
    }
    overlay.Persist(sink);
    if (base.municipalities) {
      // Every municipality's figures on the day, one side per thread.
      auto rows_of = [&](Fold& side) {
        side.municipalities->Publish(until);
        return side.municipalities->Municipalities({}, report.on).municipalities;
      };
      auto cand_rows = std::async(std::launch::async, [&] { return rows_of(cand); });
      const auto rb = rows_of(base);
      const auto rc = cand_rows.get();
      for (size_t i = 0; i < rb.size() && i < rc.size(); ++i) {
        Figures fb, fc;
        MunicipalityFigures(rb[i].figures, fb);
        MunicipalityFigures(rc[i].figures, fc);
        AddInto(fc, fb, -1);
        if (!AllZero(fc)) AddInto(municipality_delta[rb[i].identity.istat_code], fc, +1);
      }
    }
    if (base.gps) {
      base.gps->Publish(until);
      cand.gps->Publish(until);
      for (const std::string& gp : gps) {
        Figures fb, fc;
        if (auto r = base.gps->Gp(gp, report.on)) GpFigures(*r, fb);
        if (auto r = cand.gps->Gp(gp, report.on)) GpFigures(*r, fc);
        AddInto(fc, fb, -1);
        if (!AllZero(fc)) AddInto(gp_delta[gp], fc, +1);
      }
    }
  }
  overlay.Publish(until);

  // The counts: live figures where the affected people's parts differ.
  Counts before, after;
  if (const auto* m = o.live_views.municipalities; m && !municipality_delta.empty()) {
    for (const projections::MunicipalityRow& row : m->Municipalities({}, report.on).municipalities) {
      const std::string& istat = row.identity.istat_code;
      auto d = municipality_delta.find(istat);
      if (d == municipality_delta.end() || AllZero(d->second)) continue;
      Figures& fb = before[{"municipalities", istat}];
      MunicipalityFigures(row.figures, fb);
      Figures& fa = after[{"municipalities", istat}] = fb;
      AddInto(fa, d->second, +1);
    }
  }
  if (live_schools) {
    const domain::RuleSet* base_on = base_book->InForce(report.on);
    const domain::RuleSet* cand_on = cand_book->InForce(report.on);
    const bool statuses_differ = base_on == nullptr ? cand_on != nullptr : cand_on == nullptr || !(*base_on == *cand_on);
    const std::vector<std::string> enrolled = live_schools->SchoolsWithMembers();
    for (const std::string& school : enrolled) {
      if (!statuses_differ && !schools_to_compare.contains(school)) continue;
      auto b = live_schools->School(school, report.on);
      auto c = live_schools->SchoolUnder(school, report.on, *cand_book, overlay);
      if (!b || !c) continue;
      Figures fb, fc;
      SchoolFigures(b->totals, fb);
      SchoolFigures(c->totals, fc);
      if (fb == fc) continue;
      before[{"schools", school}] = std::move(fb);
      after[{"schools", school}] = std::move(fc);
    }
  }
  if (const auto* g = o.live_views.gps; g && Wanted(o, "gps")) {
    for (const auto& [gp, delta] : gp_delta) {
      if (AllZero(delta)) continue;
      auto r = g->Gp(gp, report.on);
      if (!r) continue;
      Figures& fb = before[{"gps", gp}];
      GpFigures(*r, fb);
      Figures& fa = after[{"gps", gp}] = fb;
      AddInto(fa, delta, +1);
    }
  }
  DiffCounts(before, after, report);
  report.people_refolded = ids.size();
  say("incremental what-if: " + std::to_string(ids.size()) + " people folded again in " +
      std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started)
                         .count()) +
      " ms");
  return {};
}

}  // namespace caseledger::replay::internal
