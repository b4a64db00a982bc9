// The demo workload (issue #8, the part that writes straight into the store): day by day,
// the commands of a synthetic Piedmont whose daily figures follow the real DPC bulletin,
// scaled 1:N. Used by `caseledger-demo` and `caseledger-loadgen --sink store|import`.
//
// Each day of the range, with T, P, R, D the scaled figures of that day:
//  - T swabs are collected (09:00-12:00 Europe/Rome), molecular (antigen too from
//    2021-01-15, as the series says), each requested by the person's GP; results are
//    reported the same day or, for some, at 08:00 the next (never past the range's end);
//  - P results reported that day are positive: each positive is isolated from its swab's
//    collection day and names 1-3 close contacts, who are registered, reported and
//    quarantined; a contact is released after 10 days by a negative swab (or after 14
//    without one when the day's swabs are all taken);
//  - R open cases recover (negative swab, isolation ended by negative test, case closed
//    recovered; when the day's swabs run out, the oldest end their isolation as elapsed,
//    untested) and D die (case closed deceased), oldest cases and sickest patients first;
//  - admissions, ICU admissions and discharges bring the open cases in hospital and in
//    intensive care to that day's scaled ricoverati_con_sintomi and terapia_intensiva.
// The other swabs go to people tested for the first time (as many as the scaled
// casi_testati) and then to re-tests. People register the day they are first needed,
// resident by population, with a tax code, a GP and (ages 6-18) a school class. The cases
// open the day before the range are opened first, in the 14 days before it.
//
// Flows are followed on the cumulative scaled figures, so what cannot be done one day (no
// open case to recover) is done on a later one and the range's totals match, unless the
// series corrects itself down by more than the rest of the range makes up (tamponi on
// 2020-12-17: -215,581): what was done stays, and the report's *_short is negative. Deterministic
// for a seed: the same options give the same event bodies (positions may interleave
// differently within a day: streams are appended concurrently).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "workload/demo_series.h"
#include "domain/decision.h"
#include "domain/reference.h"
#include "domain/time.h"
#include "eventstore/bulk_import.h"
#include "eventstore/event_store.h"

namespace caseledger::workload {

class DemoSimulation;

// One append of the workload as decided: `request` names the stream, expected version,
// actor and claims; its events, encoded, are in `request.events` or, handed to a sink, the
// next `events` of its batch (DecidedBatch).
//
// Handed to a sink (DemoOptions::sink), a person's appends name their stream by
// `stream_key` and only the first (the registration: no events before) also by name in
// `request.stream`; the others leave it empty (DemoImportFeed resolves them). Building,
// handing over and looking up the name of every append was ~12 % of the generator's thread
// and ~19 % of the import's at 1:10. The events are encoded where they were decided
// (DemoAppender::Apply), on the generator's thread, while the domain events' strings are in
// its core's caches, into one buffer per batch: encoded on the import thread (until session
// 14), their first touch there was cache misses (cereal's copies, ~20 % of that thread at
// 1:10), and a string per field and event was an allocation on one thread, a free and a
// first touch of scattered bytes on the other.
struct DecidedAppend {
  eventstore::AppendRequest request;
  // The workload's number of the stream (a person's index + 1), the same for each of its
  // appends; 0: none (the stream is named in every request, as the users stream's grant).
  uint64_t stream_key = 0;
  uint32_t events = 0;  // encoded into the batch (DecidedBatch::events), after those of the appends before
};

// Appends handed over together, their events encoded one after another into `bytes`.
struct DecidedBatch {
  struct Event {
    std::string_view type;  // static
    uint32_t schema_version = 0;
    uint32_t body = 0;      // bytes in `bytes`, after the event before's
    uint32_t personal = 0;  // bytes after the body
    domain::Timestamp effective_at;
  };
  std::vector<DecidedAppend> appends;
  std::vector<Event> events;
  std::string bytes;

  size_t size() const { return appends.size(); }
  bool empty() const { return appends.empty(); }
  void clear() {  // keeps the memory, to be filled again
    appends.clear();
    events.clear();
    bytes.clear();
  }
  // Calls visit(append, views of its events) for each append, in order; stops at and returns
  // its first error.
  template <class Visit>
  eventstore::StoreResult<void> ForEach(Visit visit) {
    std::vector<eventstore::BulkImport::EventView> views;
    size_t event = 0, offset = 0;
    for (DecidedAppend& a : appends) {
      views.clear();
      for (uint32_t i = 0; i < a.events; ++i, ++event) {
        const Event& e = events[event];
        views.push_back({e.type, e.schema_version, std::string_view(bytes).substr(offset, e.body),
                         std::string_view(bytes).substr(offset + e.body, e.personal), e.effective_at});
        offset += e.body + e.personal;
      }
      if (auto done = visit(a, std::span<const eventstore::BulkImport::EventView>(views)); !done) return done.error();
    }
    return {};
  }
};

struct DemoOptions {
  domain::Date from = domain::Date::FromYmd(2020, 10, 1);
  domain::Date to = domain::Date::FromYmd(2020, 10, 31);
  int64_t scale = 1000;  // 1:scale
  uint64_t seed = 1;
  int appenders = 16;  // concurrent appends per day (group commit shares their syncs)
  // Granted the admin role in the "users" stream before the first day; empty: no grant.
  std::string admin_subject = "demo-admin";
  // Called after each day is appended, with the day and the events appended so far
  // (progress of long loads); may be empty.
  std::function<void(domain::Date, uint64_t)> on_day;
  // The store holds the first `resume_after` events of this very workload (same options)
  // from a load that stopped: they are generated again but not appended
  // (DemoAppender::ResumeAfter). 0: an empty store.
  uint64_t resume_after = 0;
  // Where each day's appends go, in order, instead of the store (loadgen --sink import: a
  // bulk import, each append's stream found by its key, as DemoImportFeed does); empty: appended to the store. Not with resume_after.
  // The sink takes the day's requests out of the vector and leaves it empty; it may leave
  // an emptied vector of its own there (an earlier day's, whose memory the next day then
  // fills again).
  std::function<eventstore::StoreResult<void>(DecidedBatch& day)> sink;
  // Requests handed to the sink at once, within a day (and the rest at its end): a batch
  // that stays in the caches while a sink on another thread reads it (~2 MB at 2,048; a
  // whole day's at 1:10, ~5,500 requests, was read back from main memory there).
  size_t sink_batch = 2048;
  // Memory: with a `spill_dir`, at most `people_in_memory` people are kept decoded and the
  // others written to a file there (removed at the end), so that the loader's memory does
  // not grow with the people; the events are the same. Empty: everybody in memory.
  std::string spill_dir;
  size_t people_in_memory = 1 << 18;
};

struct DemoReport {
  int days = 0;
  uint64_t people = 0;
  uint64_t commands = 0;
  uint64_t events = 0;
  uint64_t rejected = 0;  // decisions that failed: a bug in the generator, should be 0
  std::vector<std::string> first_rejections;
  // Within the range: swabs collected, positive results reported, closures.
  int64_t swabs = 0;
  int64_t positives = 0;
  int64_t recoveries = 0;
  int64_t deaths = 0;
  // Scaled totals of the range the generator could not reach (targets minus done).
  int64_t swabs_short = 0;
  int64_t positives_short = 0;
  int64_t recoveries_short = 0;
  int64_t deaths_short = 0;
  // Days that ended with the hospital or ICU level off the scaled target.
  int hospital_days_off = 0;
  // People written out to the spill file and read back (DemoOptions::spill_dir).
  uint64_t people_written_out = 0;
  uint64_t people_read_back = 0;
  uint64_t people_moved = 0;       // copies moved out of the spill file's sparse segments
  uint64_t spill_file_bytes = 0;   // the spill file's size at the end
  uint64_t spill_batches = 0;      // batches written to it
  // People set aside as dormant (a summary instead of their state: demo_person_store.h), and
  // light people made from a summary (for a re-test or a look).
  uint64_t people_set_aside = 0;
  uint64_t people_light = 0;
  // The first person to test positive in the range, for examples.
  std::string example_person_id;
  std::string example_tax_code;
  double seconds = 0;
};

// Adds a workload's appends, as handed to DemoOptions::sink, to a bulk import: each added to
// the stream its name or, once named, its key names
// (a handle of the import's: BulkImport::OpenStream). Not thread-safe; `bulk` must outlive it.
class DemoImportFeed {
 public:
  explicit DemoImportFeed(eventstore::BulkImport& bulk) : bulk_(bulk) {}
  // The import's error; kInvalidArgument for a key handed over before its stream's name.
  // `events`: the append's encoded events (DecidedBatch), or none: those of its request.
  eventstore::StoreResult<void> Add(DecidedAppend&& append, std::span<const eventstore::BulkImport::EventView> events);
  // Adds every append of `batch`, in order.
  eventstore::StoreResult<void> Add(DecidedBatch& batch) {
    return batch.ForEach([this](DecidedAppend& a, std::span<const eventstore::BulkImport::EventView> events) {
      return Add(std::move(a), events);
    });
  }

 private:
  static constexpr eventstore::BulkImport::StreamHandle kUnknown = UINT32_MAX;
  eventstore::BulkImport& bulk_;
  std::vector<eventstore::BulkImport::StreamHandle> handles_;  // by stream key - 1
};

class DemoWorkload {
 public:
  // REQUIRES: `reference` holds Piedmont's municipalities; `series` from ScaleSeries.
  DemoWorkload(std::shared_ptr<const domain::ReferenceData> reference, ScaledSeries series,
               DemoOptions options);
  ~DemoWorkload();
  DemoWorkload(const DemoWorkload&) = delete;
  DemoWorkload& operator=(const DemoWorkload&) = delete;

  // Generates the whole range into `store`, appending each day's commands at the end of the
  // day. Meant for an empty store: swab ids and tax codes of an earlier load clash with the
  // new ones (a store error). Call once.
  eventstore::StoreResult<DemoReport> LoadInto(eventstore::EventStore& store);

 private:
  std::unique_ptr<DemoSimulation> simulation_;
};

// Reads `reference_dir`/dpc-piemonte-daily.csv, scales it for `options` and loads the
// workload into `store`. nullopt with `*error` set (one line) on any failure.
std::optional<DemoReport> LoadDemoWorkload(eventstore::EventStore& store,
                                           std::shared_ptr<const domain::ReferenceData> reference,
                                           const std::string& reference_dir,
                                           const DemoOptions& options, std::string* error);

}  // namespace caseledger::workload
