#include "projections/log_prefetch.h"

#include "domain/event_codec.h"

#include <algorithm>

namespace caseledger::projections {

HashedId StreamPerson(const domain::Envelope& env) {
  constexpr std::string_view kPersonStreamPrefix = "person-";
  std::string_view stream(env.stream);
  return stream.starts_with(kPersonStreamPrefix) ? HashedId::Of(stream.substr(kPersonStreamPrefix.size())) : HashedId{};
}

void DecodedBatch::IndexPersons() {
  persons.resize(envelopes.size());
  for (size_t i = 0; i < envelopes.size(); ++i) persons[i] = StreamPerson(envelopes[i]);
}

eventstore::StoreResult<DecodedBatch> ReadDecoded(const eventstore::LogReader& log, uint64_t from,
                                                  size_t max_count) {
  DecodedBatch batch;
  if (auto read = ReadDecodedInto(log, from, max_count, batch); !read) return read.error();
  return batch;
}

eventstore::StoreResult<void> ReadDecodedInto(const eventstore::LogReader& log, uint64_t from,
                                              size_t max_count, DecodedBatch& batch) {
  batch.decode_error.clear();
  // The views use no hash: the chain is the audit's and verify's to check (ChainCheck).
  if (auto read = log.ReadLogInto(from, max_count, batch.envelopes, eventstore::ChainCheck::kTrust,
                                  eventstore::EnvelopeFields::kViews);
      !read) {
    return read.error();
  }
  batch.events.resize(batch.envelopes.size());
  batch.persons.resize(batch.envelopes.size());
  batch.keys.resize(batch.envelopes.size());
  batch.in_order = 0;
  const uint64_t first = batch.envelopes.empty() ? 0 : batch.envelopes.front().position;
  for (size_t i = 0; i < batch.envelopes.size(); ++i) {
    const domain::Envelope& env = batch.envelopes[i];
    // While the envelope is in the cache.
    batch.persons[i] = StreamPerson(env);
    if (batch.in_order == i && env.position == first + i) ++batch.in_order;
    // Into the slot's own event (a recycled batch's): its strings keep their buffers.
    if (auto decoded = domain::DecodeInto(env.type, env.schema_version, env.body, {}, batch.events[i]); !decoded) {
      batch.decode_error = decoded.error().message;
      batch.events.resize(i);
      batch.keys.resize(i);
      for (size_t k = i + 1; k < batch.envelopes.size(); ++k) {
        batch.persons[k] = StreamPerson(batch.envelopes[k]);
        if (batch.in_order == k && batch.envelopes[k].position == first + k) ++batch.in_order;
      }
      break;
    }
    batch.keys[i] = EventKeys::Of(env, batch.events[i]);
  }
  return {};
}

LogPrefetcher::LogPrefetcher(const eventstore::LogReader& log, uint64_t from, uint64_t to,
                             size_t max_batch, size_t depth)
    : log_(log), from_(from), to_(to), max_batch_(std::max<size_t>(max_batch, 1)),
      depth_(std::max<size_t>(depth, 1)) {
  thread_ = std::thread([this] { Run(); });
}

LogPrefetcher::~LogPrefetcher() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  room_.notify_all();
  thread_.join();
}

void LogPrefetcher::Run() {
  uint64_t at = from_;
  bool reading = at <= to_;
  if (!reading) {
    std::lock_guard lock(mu_);
    done_ = true;
  }
  // Batches given back, read into again: their envelopes' strings and their vectors keep
  // their memory (a fresh batch of 2^17 envelopes faulted in ~50 MiB of new pages).
  std::vector<DecodedBatch> spare;
  for (;;) {
    bool read = false;
    {
      std::unique_lock lock(mu_);
      room_.wait(lock, [&] { return stop_ || !used_.empty() || (reading && queue_.size() < depth_); });
      for (DecodedBatch& b : used_) spare.push_back(std::move(b));
      used_.clear();
      if (stop_) break;
      read = reading && queue_.size() < depth_;
    }
    // At most as many as can be out at once (queued, held by the consumer): the rest go.
    if (spare.size() > depth_ + 2) spare.resize(depth_ + 2);
    if (!read) continue;
    eventstore::StoreResult<DecodedBatch> batch = DecodedBatch{};
    if (!spare.empty()) {
      batch = std::move(spare.back());
      spare.pop_back();
    }
    if (auto filled = ReadDecodedInto(log_, at, std::min<uint64_t>(max_batch_, to_ - at + 1), *batch); !filled) {
      batch = filled.error();
    }
    if (batch) at += batch->envelopes.size();
    // A read error, a short log or an event that does not decode ends the reading: the
    // consumer stops there.
    reading = batch && !batch->empty() && batch->decode_error.empty() && at <= to_;
    {
      std::lock_guard lock(mu_);
      queue_.push_back(std::move(batch));
      if (!reading) done_ = true;
    }
    ready_.notify_one();
  }
}

eventstore::StoreResult<DecodedBatch> LogPrefetcher::Next() {
  std::unique_lock lock(mu_);
  ready_.wait(lock, [&] { return !queue_.empty() || done_; });
  if (queue_.empty()) return DecodedBatch{};
  auto batch = std::move(queue_.front());
  queue_.pop_front();
  lock.unlock();
  room_.notify_one();
  return batch;
}

void LogPrefetcher::Recycle(DecodedBatch batch) {
  {
    std::lock_guard lock(mu_);
    used_.push_back(std::move(batch));
  }
  room_.notify_one();
}

}  // namespace caseledger::projections
