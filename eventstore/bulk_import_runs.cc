// The bulk import's runs (bulk_import.cc says the whole order): 1b. a full run of the
// stream index or of the claims handed to a pool thread, sorted and written there while
// the next run fills on the import's thread, and 3a. Commit's merges of the runs into the
// stream index and the claims, each cut into ranges of keys merged on threads of their own.
//
// A run in flight is the pool's until the import's thread lands it (Land: waits for it,
// adds its file to the runs, newest last). At most one of each kind is in flight: a flush
// lands the one before first, and Commit lands both before it merges. While the claims'
// run is in flight its table answers the import's look-ups, between the filling table and
// the runs' files; neither thread changes it. A run that fails fails the import (Fail):
// the next Add or Commit answers the error, nothing is ingested.
#include "eventstore/bulk_import_impl.h"

#include "eventstore/store_logger.h"

#include <pthread.h>
#include <sodium.h>
#include <spdlog/fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <utility>

namespace caseledger::eventstore {

using bulk_import_internal::CutsOf;
using bulk_import_internal::IndexRun;
using bulk_import_internal::RunWrite;
using bulk_import_internal::SortByName;
using bulk_import_internal::SortedRuns;
using bulk_import_internal::TableSink;

void BulkImport::Impl::Post(std::function<void()> task) {
  {
    std::lock_guard l(mu_);
    tasks_.push_back(std::move(task));
  }
  work_cv_.notify_one();
}

template <class Write, class Runs>
StoreResult<void> BulkImport::Impl::Land(Write& write, Runs& runs) {
  if (!write.pending) return {};
  write.pending = false;
  decltype(write.file) file;
  {
    std::unique_lock l(mu_);
    run_cv_.wait(l, [&] { return write.done; });
    write.done = false;
    if (write.error) return *std::exchange(write.error, std::nullopt);
    file = std::move(write.file);
  }
  runs.Add(std::move(file));
  return {};
}

StoreResult<void> BulkImport::Impl::FlushIndexRun() {
  const auto started = std::chrono::steady_clock::now();
  ++index_runs_flushed_;
  if (auto landed = Land(index_write_, *index_runs_); !landed) return landed;
  index_flight_ = std::move(run_);  // cleared by the pool thread that wrote the last
  run_ = IndexRun{};
  run_.first = next_position_;
  run_.slots.reserve(std::min<uint64_t>(options_.index_run_entries, 1 << 24));
  ++run_number_;  // every stream's slot is of the run before
  index_write_.pending = true;
  index_write_.path = index_runs_->NextPath();
  Post([this] { WriteIndexRun(); });
  flush_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return {};
}

template <class Write, class File>
void BulkImport::Impl::RunWritten(Write& write, StoreResult<File> file) {
  if (!file) Fail(file.error());
  {
    std::lock_guard l(mu_);
    write.done = true;
    if (file) {
      write.file = std::move(*file);
    } else {
      write.error = file.error();
    }
  }
  run_cv_.notify_all();
}

void BulkImport::Impl::WriteIndexRun() {
  index_flight_.Sort();
  auto file = index_runs_->WriteRun(index_write_.path, index_flight_);
  index_flight_.Clear();
  RunWritten(index_write_, std::move(file));
}

std::vector<std::pair<std::string_view, std::string_view>> BulkImport::Impl::SortedClaims(
    const bulk_import_internal::ClaimTable& table) {
  std::vector<std::pair<std::string_view, std::string_view>> claims;
  claims.reserve(table.size());
  for (const auto& held : table) claims.emplace_back(held.claim(), ClaimHolder(held.holder));
  SortByName(claims, [](const auto& c) { return c.first; });  // claims are unique
  return claims;
}

StoreResult<void> BulkImport::Impl::FlushClaimRun() {
  const auto started = std::chrono::steady_clock::now();
  ++claim_runs_flushed_;
  if (auto landed = Land(claim_write_, *claim_runs_); !landed) return landed;
  // The landed run's table and bytes, emptied with their memory kept, fill next.
  claim_flight_.claims.clear();
  claim_flight_.bytes.Clear();
  std::swap(claims_, claim_flight_.claims);
  std::swap(claim_bytes_, claim_flight_.bytes);
  claims_.reserve(std::min<uint64_t>(options_.claim_run_entries, 1 << 18));  // the first time: as Start's
  claim_write_.pending = true;
  claim_write_.path = claim_runs_->NextPath();
  Post([this] { WriteClaimRun(); });
  flush_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return {};
}

void BulkImport::Impl::WriteClaimRun() {
  auto file = claim_runs_->WriteRun(claim_write_.path, [&](bulk_import_internal::RunSink& w) {
    for (const auto& [claim, stream] : SortedClaims(claim_flight_.claims)) {
      if (auto st = w.Put(claim, stream); !st.ok()) return st;  // "": released
    }
    return rocksdb::Status::OK();
  });
  RunWritten(claim_write_, std::move(file));
}

namespace {

// The claims taken or released since the last run, sorted, as the newest run of the merge.
class MemoryClaimCursor final : public bulk_import_internal::RunCursor {
 public:
  using Claims = std::vector<std::pair<std::string_view, std::string_view>>;
  explicit MemoryClaimCursor(const Claims& claims) : claims_(claims) {}
  void Seek(std::string_view target) override {
    i_ = static_cast<size_t>(std::partition_point(claims_.begin(), claims_.end(),
                                                  [&](const auto& c) { return c.first < target; }) -
                             claims_.begin());
  }
  bool Valid() const override { return i_ < claims_.size(); }
  std::string_view key() const override { return claims_[i_].first; }
  std::string_view value() const override { return claims_[i_].second; }
  void Next() override { ++i_; }

 private:
  const Claims& claims_;
  size_t i_ = 0;
};

// Runs merge(part, lower, upper) for each key range that `cuts` bound ([lower, upper), an
// empty bound open), each on a thread named `name` (the first on this one); returns each
// range's seconds, for the Commit's log line.
template <typename Merge>
std::vector<double> MergeRanges(const std::vector<std::string>& cuts, const char* name, const Merge& merge) {
  std::vector<double> seconds(cuts.size() + 1);
  auto run = [&](size_t part) {
    const auto started = std::chrono::steady_clock::now();
    merge(part, part == 0 ? std::string_view() : std::string_view(cuts[part - 1]),
          part == cuts.size() ? std::string_view() : std::string_view(cuts[part]));
    seconds[part] = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  std::vector<std::thread> others;
  for (size_t part = 1; part <= cuts.size(); ++part) {
    others.emplace_back([&, part] {
      pthread_setname_np(pthread_self(), name);
      run(part);
    });
  }
  pthread_setname_np(pthread_self(), name);
  run(0);
  for (auto& t : others) t.join();
  return seconds;
}

}  // namespace

std::vector<std::string> BulkImport::Impl::IndexSplits(size_t parts) const {
  // A sample of the streams (at most ~64 k), weighted by their events, sorted by name; the
  // cuts fall where the running weight passes each part's share. Balance only: any cuts
  // give the same files' entries.
  if (parts < 2 || stream_list_.size() < 2 * parts) return {};
  const size_t step = std::max<size_t>(1, stream_list_.size() / 65536);
  std::vector<std::pair<std::string_view, uint64_t>> sample;
  uint64_t total = 0;
  for (size_t i = 0; i < stream_list_.size(); i += step) {
    const NamedStream& s = stream_list_[i];
    if (!s.state.written) continue;
    sample.emplace_back(s.name, s.state.head.version + 1);
    total += s.state.head.version + 1;
  }
  SortByName(sample, [](const auto& s) { return s.first; });
  std::vector<std::string> cuts;
  uint64_t running = 0;
  for (const auto& [name, weight] : sample) {
    running += weight;
    if (cuts.size() + 1 < parts && running * parts >= total * (cuts.size() + 1)) {
      std::string cut = format::StreamPrefix(name);
      if (cuts.empty() || cuts.back() != cut) cuts.push_back(std::move(cut));
    }
  }
  return cuts;
}

StoreResult<void> BulkImport::Impl::WriteIndexes() {
  // The entries gathered since the last runs are not written as runs of their own: they are
  // merged from memory as the newest run (at 1:100, with a single run, that was a third of
  // the work at Commit). The runs in flight first: the merges read every run.
  if (auto landed = Land(index_write_, *index_runs_); !landed) return landed;
  if (auto landed = Land(claim_write_, *claim_runs_); !landed) return landed;
  claim_flight_ = {};  // its claims are in the runs: memory for the merges
  run_.Sort();
  // The claims on threads of their own: the last ones sorted, then cut into ranges of claims
  // merged into a file each (the claims' one thread was the Commit's last, ~6 s after the
  // index's at 1:10), cut by a sample of every run and of the last claims.
  std::vector<std::optional<StoreError>> claims_failed(static_cast<size_t>(options_.threads));
  std::vector<double> claim_seconds, index_seconds;  // each range's merge, for the log
  std::thread claims_writer([&] {
    pthread_setname_np(pthread_self(), "cl-bulk-claims");
    const MemoryClaimCursor::Claims last_claims = SortedClaims(claims_);
    std::vector<std::string_view> samples(claim_runs_->samples().begin(), claim_runs_->samples().end());
    for (size_t i = 0; i < last_claims.size(); i += TableSink::kSampleEvery) samples.push_back(last_claims[i].first);
    const std::vector<std::string> claim_cuts = CutsOf(std::move(samples), claims_failed.size());
    claim_seconds = MergeRanges(claim_cuts, "cl-bulk-claims", [&](size_t part, std::string_view lower, std::string_view upper) {
      MemoryClaimCursor newest(last_claims);
      auto claimed = WriteTable(store_.claims_, "claims-" + std::to_string(part) + ".sst", [&](TableSink& w) {
        auto merged = claim_runs_->MergeRange(lower, upper, &newest, [&](std::string_view claim, std::string_view stream) {
          return stream.empty() ? w.Delete(claim) : w.Put(claim, stream);
        });
        return merged ? rocksdb::Status::OK() : rocksdb::Status::IOError(merged.error().message);
      });
      if (!claimed) claims_failed[part] = claimed.error();
    });
  });
  // The stream index (the largest: an entry per event), cut into ranges of streams merged on
  // threads of their own, into a file each.
  const std::vector<std::string> cuts = IndexSplits(static_cast<size_t>(options_.threads));
  std::vector<std::optional<StoreError>> index_failed(cuts.size() + 1);
  std::thread index_writer([&] {
    index_seconds = MergeRanges(cuts, "cl-bulk-index", [&](size_t part, std::string_view lower, std::string_view upper) {
      auto written = WriteTable(store_.streams_, "streams-" + std::to_string(part) + ".sst", [&](TableSink& w) {
        auto merged = index_runs_->MergeRange(lower, upper, &run_,
                                              [&](std::string_view key, std::string_view value) { return w.Put(key, value); });
        return merged ? rocksdb::Status::OK() : rocksdb::Status::IOError(merged.error().message);
      });
      if (!written) index_failed[part] = written.error();
    });
  });
  // Meanwhile, on this thread: heads, keys and idempotency records.
  std::vector<std::pair<const std::string*, const StreamState*>> sorted;
  sorted.reserve(stream_list_.size());
  for (const auto& s : stream_list_) {
    if (!s.state.written) continue;  // only rejected requests named it
    sorted.emplace_back(&s.name, &s.state);
  }
  SortByName(sorted, [](const auto& t) { return std::string_view(*t.first); });
  auto heads = WriteTable(store_.heads_, "heads.sst", [&](TableSink& w) {
    for (const auto& [name, s] : sorted) {
      if (auto st = w.Put(*name, format::EncodeHead(s->head)); !st.ok()) return st;
    }
    return rocksdb::Status::OK();
  });
  auto keys = WriteTable(store_.keys_, "keys.sst", [&](TableSink& w) {
    for (const auto& [name, s] : sorted) {
      // The tombstone of an erased key, in the keys family too (a stream keyed before
      // format 3 kept its key there), as the group commit writes it.
      if (!s->key_written || s->key != StreamState::Key::kErased) continue;
      if (auto st = w.Put(*name, ""); !st.ok()) return st;
    }
    return rocksdb::Status::OK();
  });
  std::vector<const std::pair<const std::string, std::pair<std::string, AppendResult>>*> keyed;
  for (const auto& entry : idempotency_) keyed.push_back(&entry);
  std::sort(keyed.begin(), keyed.end(), [](auto* a, auto* b) { return a->first < b->first; });
  auto idempotent = WriteTable(store_.idempotency_, "idempotency.sst", [&](TableSink& w) {
    for (const auto* entry : keyed) {
      const AppendResult& r = entry->second.second;
      format::IdempotencyRecord rec{entry->second.first, r.stream, r.first_position, r.last_position, r.version};
      if (auto st = w.Put(entry->first, format::EncodeIdempotency(rec)); !st.ok()) return st;
    }
    return rocksdb::Status::OK();
  });
  index_writer.join();
  claims_writer.join();
  // Where the Commit's time goes: its longest range ends it.
  StoreLog()->info("bulk import commit: the index's ranges merged in {:.2f} s, the claims' in {:.2f} s; {} index and "
                   "{} claims runs before, {:.2f} s of the import's thread spent handing them to the pool",
                   fmt::join(index_seconds, " / "), fmt::join(claim_seconds, " / "), index_runs_flushed_,
                   claim_runs_flushed_, flush_seconds_);
  for (auto* r : {&heads, &keys, &idempotent}) {
    if (!*r) return r->error();
  }
  for (auto* failures : {&claims_failed, &index_failed}) {
    for (auto& failed : *failures) {
      if (failed) return *failed;
    }
  }
  return {};
}

}  // namespace caseledger::eventstore
