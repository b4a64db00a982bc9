#include "projections/log_prefetch.h"

#include "domain/event_codec.h"

#include <algorithm>

namespace caseledger::projections {

eventstore::StoreResult<DecodedBatch> ReadDecoded(const eventstore::LogReader& log, uint64_t from,
                                                  size_t max_count) {
  auto envelopes = log.ReadLog(from, max_count);
  if (!envelopes) return envelopes.error();
  DecodedBatch batch;
  batch.envelopes = std::move(*envelopes);
  batch.events.reserve(batch.envelopes.size());
  for (const domain::Envelope& env : batch.envelopes) {
    auto event = domain::Decode(env.type, env.schema_version, env.body, {});
    if (!event) {
      batch.decode_error = event.error().message;
      break;
    }
    batch.events.push_back(std::move(*event));
  }
  return batch;
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
  for (;;) {
    std::vector<DecodedBatch> used;
    bool read = false;
    {
      std::unique_lock lock(mu_);
      room_.wait(lock, [&] { return stop_ || !used_.empty() || (reading && queue_.size() < depth_); });
      used.swap(used_);
      if (stop_) break;
      read = reading && queue_.size() < depth_;
    }
    used.clear();  // destroyed here, outside the lock, on the thread that allocated them
    if (!read) continue;
    auto batch = ReadDecoded(log_, at, std::min<uint64_t>(max_batch_, to_ - at + 1));
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
