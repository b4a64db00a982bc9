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
                             size_t max_batch, size_t depth, size_t readers)
    : log_(log), from_(from), to_(to), max_batch_(std::max<size_t>(max_batch, 1)),
      depth_(std::max({depth, readers, size_t{1}})) {
  end_ = from_ > to_ ? 0 : (to_ - from_) / max_batch_ + 1;
  readers = std::max<size_t>(readers, 1);
  keep_ = (depth_ + 2 + readers - 1) / readers;
  used_.resize(readers);
  spare_.resize(readers);
  running_ = readers;
  for (size_t r = 0; r < readers; ++r) threads_.emplace_back([this, r] { Run(r); });
}

LogPrefetcher::~LogPrefetcher() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  room_.notify_all();
  for (std::thread& thread : threads_) thread.join();
}

void LogPrefetcher::Run(size_t reader) {
  // Batches given back, read into again: their envelopes' strings and their vectors keep
  // their memory (a fresh batch of 2^17 envelopes faulted in ~50 MiB of new pages).
  std::vector<DecodedBatch> spare;
  for (;;) {
    uint64_t k = 0;
    bool claimed = false, over = false;  // over: nothing more to claim, ever
    bool done = false;  // over, and nothing of this reader's out: nothing more will come back
    {
      std::unique_lock lock(mu_);
      const auto claimable = [&] {
        const uint64_t next = next_out_ + reads_.size();
        return next < end_ && next < next_out_ + depth_;
      };
      // Not asleep on spare batches once nothing is left to claim (they go below).
      const auto all_claimed = [&] { return next_out_ + reads_.size() >= end_; };
      // None of this reader's batches being read or handed out (and not given back).
      const auto nothing_out = [&] {
        return std::none_of(reads_.begin(), reads_.end(), [&](const Read& r) { return r.reader == reader; }) &&
               std::find(handed_.begin(), handed_.end(), reader) == handed_.end();
      };
      room_.wait(lock, [&] {
        return stop_ || !used_[reader].empty() || claimable() ||
               (all_claimed() && (!spare.empty() || nothing_out()));
      });
      for (DecodedBatch& b : used_[reader]) spare.push_back(std::move(b));
      used_[reader].clear();
      if (stop_) break;
      if (claimable()) {
        k = next_out_ + reads_.size();
        reads_.push_back(Read{std::nullopt, reader});
        claimed = true;
      }
      over = all_claimed();
      done = over && !claimed && nothing_out();
    }
    // At most this thread's share of what can be out at once (read ahead, held by the
    // consumer): the rest go. Once every batch is claimed, all go, here, as they come back:
    // freed by the destructor's join, a short rebuild's spare batches were ~3 ms of its end
    // on the consumer's path (docs/benchmarks.md, session 31).
    if (!claimed && over) {
      spare.clear();
    } else if (spare.size() > keep_) {
      spare.resize(keep_);
    }
    eventstore::StoreResult<DecodedBatch> batch = DecodedBatch{};
    if (claimed && !spare.empty()) {
      batch = std::move(spare.back());
      spare.pop_back();
    }
    {
      std::lock_guard lock(mu_);
      spare_[reader] = spare.size();
      // Ends here rather than at the destructor's join: woken by it at a catch-up's end,
      // the readers were joined on the consumer's path (~1-3 ms of a short rebuild's end,
      // docs/benchmarks.md, session 31).
      if (done) {
        --running_;
        break;
      }
    }
    if (!claimed) continue;  // only recycled batches to take
    const uint64_t at = from_ + k * max_batch_;
    const uint64_t want = std::min<uint64_t>(max_batch_, to_ - at + 1);
    if (auto filled = ReadDecodedInto(log_, at, want, *batch); !filled) batch = filled.error();
    // A read error, a short log or an event that does not decode ends the reading: the
    // consumer stops there.
    const bool ends = !batch || batch->envelopes.size() != want || !batch->decode_error.empty();
    {
      std::lock_guard lock(mu_);
      if (k >= next_out_ && k - next_out_ < reads_.size()) reads_[k - next_out_].batch = std::move(batch);
      if (ends && k + 1 < end_) end_ = k + 1;
    }
    ready_.notify_one();
    if (ends) room_.notify_all();  // the other readers: nothing more to claim
  }
}

eventstore::StoreResult<DecodedBatch> LogPrefetcher::Next() {
  std::unique_lock lock(mu_);
  ready_.wait(lock, [&] { return next_out_ >= end_ || (!reads_.empty() && reads_.front().batch.has_value()); });
  if (next_out_ >= end_) return DecodedBatch{};
  auto batch = std::move(*reads_.front().batch);
  handed_.push_back(reads_.front().reader);
  reads_.pop_front();
  ++next_out_;
  lock.unlock();
  room_.notify_all();
  return batch;
}

size_t LogPrefetcher::Running() const {
  std::lock_guard lock(mu_);
  return running_;
}

size_t LogPrefetcher::Kept() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (size_t r = 0; r < used_.size(); ++r) n += used_[r].size() + spare_[r];
  return n;
}

void LogPrefetcher::Recycle(DecodedBatch batch) {
  {
    std::lock_guard lock(mu_);
    // Given back in the order handed out (the runner's): to the thread that read it.
    size_t reader = 0;
    if (!handed_.empty()) {
      reader = handed_.front();
      handed_.pop_front();
    }
    used_[reader].push_back(std::move(batch));
  }
  room_.notify_all();
}

}  // namespace caseledger::projections
