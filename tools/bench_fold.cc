// caseledger-bench fold: the person fold alone (issue #14: the rebuild's hot path), on the
// person events of a store loaded before (`caseledger-loadgen --sink store|import`). The
// events are read and decoded once, before any timing; each run then folds all of them
// through a fresh PersonDirectory the way the views pipeline does (PersonDirectory::Step:
// the record before the event, its effects, the event applied, copy on write), on the
// calling thread, and its CPU time is divided by the events. Then every record is encoded
// as the views database stores it ("people/<id>"), for the bytes per record.
//
// --order person folds the events grouped by person (each person's in log order), as a
// rebuild in person order would (issue #14's design: docs/benchmarks.md), against the log's
// order; --keep none keeps no record before an event (no copy on write: the pipeline keeps
// it only for events a view reads it for), --keep all (the default) one per event.
//
// Prints the median over the runs:
//   fold <person events> <ns of thread CPU per event> <records> <mean bytes per record>
// (--format tsv), or a table.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <set>

#include "app/flags.h"
#include "app/reference_files.h"
#include "eventstore/event_store.h"
#include "projections/log_prefetch.h"
#include "projections/person_directory.h"
#include "tools/tools.h"

namespace caseledger::tools {
namespace {

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

constexpr std::string_view kPersonStream = "person-";

}  // namespace

int RunBenchFold(const Args& args) {
  Flags flags(args, {"store", "runs", "until", "format", "order", "keep"}, {});
  if (!flags.ok()) return UsageError(flags.error());
  if (!flags.Has("store")) return UsageError("--store DIR/store is required");
  const int runs = std::atoi(flags.GetOr("runs", "3").c_str());
  const bool tsv = flags.GetOr("format", "table") == "tsv";
  if (runs < 1) return UsageError("bad --runs");
  const std::string order = flags.GetOr("order", "log"), keep = flags.GetOr("keep", "all");
  if (order != "log" && order != "person") return UsageError("--order is log or person");
  if (keep != "all" && keep != "none") return UsageError("--keep is all or none");
  auto rules = app::LoadRuleBook(app::DefaultRulesDir());
  if (!rules) return Failure("cannot load the rules");
  auto book = std::make_shared<const domain::RuleBook>(std::move(*rules));

  eventstore::StoreOptions so;
  so.path = flags.GetOr("store", "");
  so.create_if_missing = false;
  auto store = eventstore::EventStore::Open(so);
  if (!store) return Failure(store.error().message);
  uint64_t last = (*store)->CommittedPosition();
  if (flags.Has("until")) last = std::min<uint64_t>(last, std::strtoull(flags.GetOr("until", "").c_str(), nullptr, 10));

  // The person events, decoded, their bodies dropped (the fold reads the decoded events).
  std::vector<domain::Envelope> envelopes;
  std::vector<domain::Event> events;
  std::set<std::string, std::less<>> people;
  for (uint64_t at = 1; at <= last;) {
    auto batch = projections::ReadDecoded(**store, at, std::min<uint64_t>(1 << 16, last - at + 1));
    if (!batch) return Failure(batch.error().message);
    if (batch->envelopes.empty()) break;
    if (batch->events.size() != batch->envelopes.size()) return Failure("an event does not decode: " + batch->decode_error);
    for (size_t i = 0; i < batch->envelopes.size(); ++i) {
      domain::Envelope& env = batch->envelopes[i];
      if (!std::string_view(env.stream).starts_with(kPersonStream)) continue;
      people.emplace(std::string_view(env.stream).substr(kPersonStream.size()));
      env.body.clear();
      env.body.shrink_to_fit();
      env.personal.clear();
      env.personal.shrink_to_fit();
      envelopes.push_back(std::move(env));
      events.push_back(std::move(batch->events[i]));
    }
    at = batch->envelopes.back().position + 1;
  }
  if (envelopes.empty()) return Failure("the store has no person events");
  // The order of the fold: the log's, or by person (stable: each person's in log order).
  std::vector<uint32_t> sequence(envelopes.size());
  for (uint32_t i = 0; i < sequence.size(); ++i) sequence[i] = i;
  if (order == "person") {
    // Laid out in that order, as a rebuild reading runs sorted by person would have them.
    std::stable_sort(sequence.begin(), sequence.end(),
                     [&](uint32_t a, uint32_t b) { return envelopes[a].stream < envelopes[b].stream; });
    std::vector<domain::Envelope> by_person_envelopes;
    std::vector<domain::Event> by_person_events;
    by_person_envelopes.reserve(envelopes.size());
    by_person_events.reserve(events.size());
    for (uint32_t i : sequence) {
      by_person_envelopes.push_back(std::move(envelopes[i]));
      by_person_events.push_back(std::move(events[i]));
    }
    envelopes = std::move(by_person_envelopes);
    events = std::move(by_person_events);
    for (uint32_t i = 0; i < sequence.size(); ++i) sequence[i] = i;
  }
  const bool keep_all = keep == "all";

  std::vector<double> ns_per_event;
  size_t records = 0;
  uint64_t record_bytes = 0;
  for (int r = 0; r < runs; ++r) {
    projections::PersonDirectory directory(book);
    std::shared_ptr<const projections::PersonRecord> before;
    std::vector<projections::Effect> effects;
    const double c0 = ThreadCpuSeconds();
    for (uint32_t i : sequence) {
      std::string_view person = std::string_view(envelopes[i].stream).substr(kPersonStream.size());
      effects.clear();
      directory.Step(projections::LogEvent{envelopes[i], events[i], person}, before, effects,
                     [&](const projections::PersonRecord*, std::span<projections::FoldState>) { return keep_all; });
    }
    ns_per_event.push_back((ThreadCpuSeconds() - c0) * 1e9 / static_cast<double>(envelopes.size()));
    records = 0;
    record_bytes = 0;
    for (const std::string& id : people) {
      if (const projections::PersonRecord* record = directory.Find(id)) {
        ++records;
        record_bytes += projections::PersonDirectory::Encode(*record).size();
      }
    }
  }
  std::sort(ns_per_event.begin(), ns_per_event.end());
  const double median = ns_per_event[ns_per_event.size() / 2];
  const double mean_bytes = records ? static_cast<double>(record_bytes) / static_cast<double>(records) : 0;
  if (tsv) {
    std::printf("fold\t%zu\t%.1f\t%zu\t%.1f\n", envelopes.size(), median, records, mean_bytes);
    return 0;
  }
  std::printf("person fold (PersonDirectory::Step), %zu person events in %s order, records kept: %s, %d runs\n",
              envelopes.size(), order.c_str(), keep.c_str(), runs);
  std::printf("CPU per person event   %8.1f ns (median; runs %.1f .. %.1f)\n", median, ns_per_event.front(),
              ns_per_event.back());
  std::printf("records                %8zu, %.1f bytes each as stored (mean)\n", records, mean_bytes);
  return 0;
}

}  // namespace caseledger::tools
