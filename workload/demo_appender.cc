#include "workload/demo_appender.h"

#include <array>
#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "domain/event_codec.h"

namespace caseledger::workload {
namespace {

// Names of the PersonCommand alternatives, in variant order, for rejection reports.
constexpr std::array<const char*, std::variant_size_v<domain::PersonCommand>> kCommandNames = {
    "RegisterPerson",  "ChangeResidence", "AssignGp",      "EnrolInSchool",     "LeaveSchool",
    "RequestSwab",     "CollectSwab",     "RecordResult",  "CorrectResult",     "OrderIsolation",
    "OrderQuarantine", "EndMeasure",      "ReportContact", "RecordVaccination", "Hospitalize",
    "AdmitToIcu",      "Discharge",       "CloseCase",     "ErasePersonalData", "HandOverSample"};

}  // namespace

eventstore::StoreResult<void> DemoImportFeed::Add(DecidedAppend&& append,
                                                  std::span<const eventstore::BulkImport::EventView> events) {
  const uint64_t key = append.stream_key;
  if (key == 0) {
    if (!events.empty()) {
      return eventstore::StoreError(eventstore::StoreErrorCode::kInvalidArgument, "encoded events of an append without a key");
    }
    if (auto added = bulk_.Add(std::move(append.request)); !added) return added.error();
    return {};
  }
  if (handles_.size() < key) handles_.resize(std::max<uint64_t>(key, handles_.size() * 2), kUnknown);
  eventstore::BulkImport::StreamHandle& handle = handles_[key - 1];
  if (!append.request.stream.empty()) {
    auto opened = bulk_.OpenStream(append.request.stream);
    if (!opened) return opened.error();
    handle = *opened;
  } else if (handle == kUnknown) {
    return eventstore::StoreError(eventstore::StoreErrorCode::kInvalidArgument,
                                  "stream key " + std::to_string(key) + " handed over before its stream's name");
  }
  if (events.empty()) {
    if (auto added = bulk_.Add(handle, std::move(append.request)); !added) return added.error();
    return {};
  }
  // Its answer is dropped: without the stream's name (BulkImport::Append).
  if (auto added = bulk_.Append(handle, std::move(append.request), events); !added) return added.error();
  return {};
}

DemoAppender::DemoAppender(const domain::ReferenceData* reference, domain::Actor actor,
                           int appenders)
    : reference_(reference), actor_(std::move(actor)), appenders_(std::max(1, appenders)) {}

bool DemoAppender::Apply(domain::PersonState& state, const std::string& person_id, uint64_t stream_key,
                         const domain::PersonCommand& command, domain::Timestamp now) {
  domain::DecideContext context{now, reference_, state.registered ? "" : person_id};
  auto decision = domain::Decide(state, command, context);
  if (!decision) {
    ++counts_.rejected;
    if (counts_.first_rejections.size() < 10) {
      counts_.first_rejections.push_back(std::string(kCommandNames[command.index()]) + " " +
                                         person_id + " at " + now.ToString() + ": " +
                                         decision.error().message);
    }
    return false;
  }
  // Built where it is queued: moving a whole request into the queue (nine strings, three
  // vectors) was ~8 % of the generator's day at 1:100.
  DecidedAppend& append = queued_.appends.emplace_back();
  append.stream_key = stream_key;
  if (!name_streams_once_ || state.version == 0) append.request.stream = domain::PersonStream(person_id);
  append.request.expected = state.version == 0 ? eventstore::ExpectedVersion::NoStream()
                                               : eventstore::ExpectedVersion::Exactly(state.version);
  append.request.actor = actor_;
  append.request.claims = std::move(decision->claims);
  // Evolved and encoded here, into the batch, while the events' strings are in this core's
  // caches (DecidedAppend).
  for (const domain::Decided& d : decision->events) {
    domain::Evolve(state, d.event);  // counts the version too
    const domain::EncodedSizes enc = domain::EncodeTo(d.event, queued_.bytes);
    queued_.events.push_back({enc.type, enc.schema_version, static_cast<uint32_t>(enc.body),
                              static_cast<uint32_t>(enc.personal), d.effective_at});
    ++append.events;
  }
  ++counts_.commands;
  counts_.events += decision->events.size();
  if (hand_off_every_ > 0 && queued_.size() >= hand_off_every_ && !hand_off_error_) {
    if (auto handed = FlushTo(hand_off_); !handed) hand_off_error_ = handed.error();
  }
  return true;
}

void DemoAppender::HandOffEvery(size_t requests, Sink sink) {
  hand_off_every_ = requests;
  hand_off_ = std::move(sink);
}

void DemoAppender::Queue(eventstore::AppendRequest request) {
  ++counts_.commands;
  counts_.events += request.events.size();
  queued_.appends.push_back({std::move(request)});
}

eventstore::StoreResult<void> DemoAppender::DropStored(eventstore::EventStore& store,
                                                       std::vector<eventstore::AppendRequest>& requests) {
  std::vector<eventstore::AppendRequest> missing;
  // The version each stream will be at once the requests kept before have been appended.
  std::unordered_map<std::string, uint64_t> versions;
  for (auto& r : requests) {
    if (r.expected.kind == eventstore::ExpectedVersion::Kind::kAny) {
      return eventstore::StoreError(eventstore::StoreErrorCode::kWrongExpectedVersion,
                                    "cannot resume within a flush appending to " + r.stream +
                                        " without an expected version");
    }
    auto found = versions.find(r.stream);
    if (found == versions.end()) {
      auto stored = store.StreamVersion(r.stream);
      if (!stored) return stored.error();
      found = versions.emplace(r.stream, *stored).first;
    }
    uint64_t& version = found->second;
    const uint64_t before =
        r.expected.kind == eventstore::ExpectedVersion::Kind::kExact ? r.expected.version : 0;
    if (version >= before + r.events.size()) continue;  // the earlier load appended it
    if (version != before) {
      return eventstore::StoreError(
          eventstore::StoreErrorCode::kWrongExpectedVersion,
          "cannot resume: " + r.stream + " is at version " + std::to_string(version) +
              " where this workload has it at " + std::to_string(before) +
              " (another workload, seed or scale loaded this store)");
    }
    version += r.events.size();
    missing.push_back(std::move(r));
  }
  requests = std::move(missing);
  return {};
}

eventstore::StoreResult<void> DemoAppender::FlushTo(const Sink& sink) {
  if (hand_off_error_) return *hand_off_error_;
  const size_t day = std::max(queued_.size(), hand_off_every_);
  const size_t events = queued_.events.size(), bytes = queued_.bytes.size();
  auto taken = sink(queued_);
  queued_.clear();  // empty already, unless the sink failed
  // The next day's requests are about as many: grown once here instead of by doubling,
  // each time moving every request queued so far. A batch the sink handed back (an
  // earlier day's) has room already: its pages are in memory, where a fresh one's were page
  // faults (at 1:10, a third of the generator thread's).
  queued_.appends.reserve(day + day / 4);
  queued_.events.reserve(events + events / 4);
  queued_.bytes.reserve(bytes + bytes / 4);
  return taken;
}

eventstore::StoreResult<void> DemoAppender::Flush(eventstore::EventStore& store) {
  std::vector<eventstore::AppendRequest> requests;
  requests.reserve(queued_.size());
  (void)queued_.ForEach([&](DecidedAppend& a, std::span<const eventstore::BulkImport::EventView> events) {
    for (const auto& e : events) {
      a.request.events.push_back({std::string(e.type), e.schema_version, std::string(e.body), std::string(e.personal), e.effective_at});
    }
    requests.push_back(std::move(a.request));
    return eventstore::StoreResult<void>();
  });
  queued_.clear();
  uint64_t events = 0;
  for (const auto& r : requests) events += r.events.size();
  const uint64_t before = flushed_events_;
  flushed_events_ += events;
  if (flushed_events_ <= resume_after_) return {};  // held by the store already
  // The first flush past what the store holds is checked against it, whether the earlier
  // load stopped within it or right before it.
  if (resume_after_ > 0 && before <= resume_after_) {
    if (auto dropped = DropStored(store, requests); !dropped) return dropped.error();
  }
  // One bucket per appender; a stream always lands in the same bucket, so its requests are
  // appended in the order they were decided.
  const size_t n = std::min<size_t>(size_t(appenders_), std::max<size_t>(1, requests.size()));
  std::vector<std::vector<const eventstore::AppendRequest*>> buckets(n);
  for (const auto& r : requests) buckets[std::hash<std::string>{}(r.stream) % n].push_back(&r);
  std::atomic<bool> failed{false};
  std::mutex mu;
  std::optional<eventstore::StoreError> error;
  auto run = [&](const std::vector<const eventstore::AppendRequest*>& bucket) {
    for (const auto* r : bucket) {
      if (failed.load()) return;
      auto result = store.Append(*r);
      if (!result) {
        std::lock_guard lock(mu);
        if (!error) error = result.error();
        failed = true;
        return;
      }
    }
  };
  std::vector<std::thread> threads;
  for (size_t i = 1; i < n; ++i) threads.emplace_back(run, std::cref(buckets[i]));
  run(buckets[0]);
  for (auto& t : threads) t.join();
  if (error) return *error;
  return {};
}

}  // namespace caseledger::workload
