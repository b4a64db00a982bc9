// The bulk import's second half (bulk_import.cc says the whole order): 2. the pool that
// chains each full chunk from the tip before it and writes it as a table file of the events
// family, the sorted runs of the index and claims (1b), 3. Commit: the runs merged into the
// stream index and claims, heads, keys and idempotency records as sorted files, ingested in
// one IngestExternalFiles call under the store's write lock.
#include "eventstore/bulk_import_impl.h"

#include "eventstore/store_logger.h"

#include <pthread.h>
#include <sodium.h>

#include <algorithm>
#include <filesystem>

namespace caseledger::eventstore {

using bulk_import_internal::FromStatus;
using bulk_import_internal::Chunk;
using bulk_import_internal::Invalid;
using bulk_import_internal::SortByName;
using bulk_import_internal::TableSink;

void BulkImport::Impl::Submit() {
  if (forming_.starts.empty()) return;
  Chunk chunk = std::move(forming_);
  chunk.index = chunks_++;
  forming_ = Chunk{};
  {
    std::lock_guard l(mu_);
    if (!spare_chunks_.empty()) {
      forming_ = std::move(spare_chunks_.back());  // emptied, its capacity kept
      spare_chunks_.pop_back();
    }
  }
  forming_.first_position = next_position_;
  forming_.starts.reserve(chunk.starts.size());
  forming_.bytes.reserve(chunk.bytes.size() + chunk.bytes.size() / 8);  // the next is about as large
  std::unique_lock l(mu_);
  // At most one chunk waiting per pool thread: memory stays bounded.
  space_cv_.wait(l, [&] { return error_ || stopping_ || queue_.size() < pool_.size(); });
  queue_.push_back(std::move(chunk));
  l.unlock();
  work_cv_.notify_one();
}

void BulkImport::Impl::Work() {
  for (;;) {
    Chunk chunk;
    {
      std::unique_lock l(mu_);
      work_cv_.wait(l, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      chunk = std::move(queue_.front());
      queue_.pop_front();
      ++busy_;
    }
    space_cv_.notify_one();
    auto written = WriteChunk(chunk);
    if (!written) Fail(written.error());
    {
      std::lock_guard l(mu_);
      --busy_;
    }
    space_cv_.notify_all();
  }
}

StoreResult<void> BulkImport::Impl::WriteChunk(Chunk& chunk) {
  domain::Hash prev{};
  {
    std::unique_lock l(mu_);
    chain_cv_.wait(l, [&] { return error_ || stopping_ || hashed_chunks_ == chunk.index; });
    if (error_ || stopping_) return {};
    prev = tip_;
  }
  std::vector<uint32_t> trailers(chunk.size());
  for (size_t i = 0; i < chunk.size(); ++i) {
    const std::string_view body = chunk.Body(i);
    prev = format::ChainHash(prev, chunk.first_position + i, body);
    // The stored value in place: the hash (or its check) in the room after the body.
    trailers[i] = static_cast<uint32_t>(format::WriteTrailer(body, prev, chunk.bytes.data() + chunk.starts[i] + body.size()));
  }
  {
    std::lock_guard l(mu_);
    tip_ = prev;
    ++hashed_chunks_;
  }
  chain_cv_.notify_all();
  char name[32];
  std::snprintf(name, sizeof name, "events-%06llu.sst", static_cast<unsigned long long>(chunk.index));
  auto written = WriteTable(store_.events_, name, [&](TableSink& w) {
    for (size_t i = 0; i < chunk.size(); ++i) {
      const std::string_view body = chunk.Body(i);
      rocksdb::Status s = w.Put(format::PositionKey(chunk.first_position + i),
                                std::string_view(body.data(), body.size() + trailers[i]));
      if (!s.ok()) return s;
    }
    return rocksdb::Status::OK();
  });
  chunk.bytes.clear();
  chunk.starts.clear();
  std::lock_guard l(mu_);
  if (recycle_chunks_ && spare_chunks_.empty()) {
    spare_chunks_.push_back(std::move(chunk));
  }
  return written;
}

StoreResult<void> BulkImport::Impl::WriteTable(rocksdb::ColumnFamilyHandle* cf, const std::string& name,
                                               const std::function<rocksdb::Status(TableSink&)>& fill) {
  rocksdb::DB* db = store_.db_.get();
  rocksdb::Options options(db->GetDBOptions(), db->GetOptions(cf));
  // The family's own compression, but a writer that is not compaction buffers a whole file
  // before it builds the dictionary: bound that, and build it from samples without zstd's
  // trainer, which cost more than the compression itself.
  if (options.bottommost_compression_opts.enabled && options.bottommost_compression_opts.max_dict_bytes > 0) {
    options.bottommost_compression_opts.max_dict_buffer_bytes = 8 << 20;
    options.bottommost_compression_opts.use_zstd_dict_trainer = false;
  }
  if (options_.zstd_level != 0) options.bottommost_compression_opts.level = options_.zstd_level;
  rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), options, cf);
  const std::string path = options_.work_dir + "/" + name;
  rocksdb::Status s = writer.Open(path);
  if (!s.ok()) return FromStatus(s, "open " + path);
  TableSink sink{writer};
  s = fill(sink);
  if (!s.ok()) return FromStatus(s, "write " + path);
  if (sink.entries == 0) {  // nothing to ingest
    std::error_code ec;
    std::filesystem::remove(path, ec);
    return {};
  }
  rocksdb::ExternalSstFileInfo info;
  s = writer.Finish(&info);
  if (!s.ok()) return FromStatus(s, "finish " + path);
  std::lock_guard l(mu_);
  files_.emplace(path, cf);
  file_bytes_ += info.file_size;
  return {};
}

void BulkImport::Impl::SortRun(bool keep) {
  SortByName(touched_, [](const bulk_import_internal::Touched& t) { return std::string_view(*t.name); });
  // Each touched stream's slice of run_offsets_, in name order, then every event's position
  // placed in its stream's slice: in position order, which is the stream's version order.
  // One pass over the run writing to as many places as there are streams (a cursor of 4
  // bytes per stream, in the caches at 1:10), where the vectors per stream were a miss each
  // event and an allocation each doubling.
  std::unique_ptr<uint32_t[]> next(new uint32_t[stream_list_.size()]);
  uint32_t begin = 0;
  for (const bulk_import_internal::Touched& t : touched_) {
    t.state->run_begin = begin;
    next[t.index] = begin;
    begin += t.state->run_events;
  }
  run_offsets_.resize(run_streams_.size());
  for (size_t i = 0; i < run_streams_.size(); ++i) run_offsets_[next[run_streams_[i]]++] = static_cast<uint32_t>(i);
  if (keep) {
    run_streams_.clear();
  } else {
    std::vector<uint32_t>().swap(run_streams_);
  }
}

StoreResult<void> BulkImport::Impl::FlushIndexRun() {
  SortRun(/*keep=*/true);
  // A stream's keys (its name, '\0', the version) sort as its name does: the key seed at
  // version 0 first, then the index entries in version order.
  auto written = index_runs_->Write([&](TableSink& w) {
    for (const auto& [name, s, index] : touched_) {
      if (auto seed = seeds_.find(s); seed != seeds_.end()) {
        if (auto st = w.Put(format::KeySeedKey(*name), seed->second); !st.ok()) return st;
      }
      for (uint32_t k = 0; k < s->run_events; ++k) {
        rocksdb::Status st = w.Put(format::StreamKey(*name, s->first_version + k),
                                   format::EncodePositionRef(run_first_ + run_offsets_[s->run_begin + k]));
        if (!st.ok()) return st;
      }
    }
    return rocksdb::Status::OK();
  });
  for (const auto& t : touched_) {
    t.state->run_events = 0;
    t.state->in_run = false;
  }
  touched_.clear();
  for (auto& [stream, seed] : seeds_) sodium_memzero(seed.data(), seed.size());
  seeds_.clear();
  std::vector<uint32_t>().swap(run_offsets_);  // not kept between runs
  run_first_ = next_position_;
  return written;
}

StoreResult<void> BulkImport::Impl::FlushClaimRun() {
  std::vector<std::pair<std::string_view, std::string_view>> claims;
  claims.reserve(claims_.size());
  for (const auto& held : claims_) claims.emplace_back(held.claim(), ClaimHolder(held.holder));
  SortByName(claims, [](const auto& c) { return c.first; });  // claims are unique
  auto written = claim_runs_->Write([&](TableSink& w) {
    for (const auto& [claim, stream] : claims) {
      if (auto st = w.Put(claim, stream); !st.ok()) return st;  // "": released
    }
    return rocksdb::Status::OK();
  });
  claims.clear();
  claims_.clear();
  claim_bytes_.Clear();
  return written;
}

namespace {

// The stream index entries and key seeds gathered since the last run, as the newest run of
// the merge: the streams sorted by name, each one's key seed (version 0) first, then its
// entries in version order. Reads what it is given; several may read the same at once.
class MemoryIndexCursor final : public bulk_import_internal::RunCursor {
 public:
  using Streams = std::vector<bulk_import_internal::Touched>;
  using Seeds = std::unordered_map<const bulk_import_internal::StreamState*, std::string>;
  // `offsets`: the run's from `first`, as SortRun leaves them.
  MemoryIndexCursor(const Streams& streams, const Seeds& seeds, uint64_t first, const std::vector<uint32_t>& offsets)
      : streams_(streams), seeds_(seeds), first_(first), offsets_(offsets) {}

  void Seek(std::string_view target) override {
    // The first stream whose last possible key reaches target (a stream's keys sort as its
    // name does), then its entries before target skipped.
    auto first = std::partition_point(streams_.begin(), streams_.end(), [&](const auto& t) {
      return format::StreamKey(*t.name, UINT64_MAX) < target;
    });
    s_ = static_cast<size_t>(first - streams_.begin());
    Enter();
    while (Valid() && key() < target) Next();
  }
  bool Valid() const override { return s_ < streams_.size(); }
  std::string_view key() const override { return key_; }
  std::string_view value() const override { return at_seed_ ? std::string_view(*seed_) : std::string_view(value_); }
  void Next() override {
    if (at_seed_) {
      at_seed_ = false;
    } else {
      ++k_;
    }
    if (k_ < streams_[s_].state->run_events) {
      Load();
    } else {
      ++s_;
      Enter();
    }
  }

 private:
  // At the first entry of streams_[s_], or of the next stream with one.
  void Enter() {
    for (; s_ < streams_.size(); ++s_) {
      auto seed = seeds_.find(streams_[s_].state);
      seed_ = seed == seeds_.end() ? nullptr : &seed->second;
      at_seed_ = seed_ != nullptr;
      k_ = 0;
      if (at_seed_ || streams_[s_].state->run_events > 0) {
        Load();
        return;
      }
    }
  }
  void Load() {
    const auto& [name, state, index] = streams_[s_];
    if (!at_seed_ && k_ > 0) {
      key_.resize(key_.size() - 8);  // the stream of the entry before: only the version changes
    } else {
      key_.assign(*name);
      key_.push_back('\0');
    }
    format::PutFixed64BE(key_, at_seed_ ? 0 : state->first_version + k_);  // format::StreamKey's bytes
    if (!at_seed_) value_ = format::EncodePositionRef(first_ + offsets_[state->run_begin + k_]);
  }

  const Streams& streams_;
  const Seeds& seeds_;
  const uint64_t first_;
  const std::vector<uint32_t>& offsets_;
  size_t s_ = 0;
  size_t k_ = 0;  // into the stream's positions
  bool at_seed_ = false;
  const std::string* seed_ = nullptr;
  std::string key_, value_;
};

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
  // the work at Commit).
  SortRun(/*keep=*/false);
  // The claims on a thread of their own.
  std::optional<StoreError> claims_failed;
  std::thread claims_writer([&] {
    pthread_setname_np(pthread_self(), "cl-bulk-claims");
    MemoryClaimCursor::Claims last_claims;
    last_claims.reserve(claims_.size());
    for (const auto& held : claims_) last_claims.emplace_back(held.claim(), ClaimHolder(held.holder));
    SortByName(last_claims, [](const auto& c) { return c.first; });  // claims are unique
    MemoryClaimCursor newest_claims(last_claims);
    auto claimed = WriteTable(store_.claims_, "claims.sst", [&](TableSink& w) {
      auto merged = claim_runs_->MergeRange({}, {}, &newest_claims, [&](std::string_view claim, std::string_view stream) {
        return stream.empty() ? w.Delete(claim) : w.Put(claim, stream);
      });
      return merged ? rocksdb::Status::OK() : rocksdb::Status::IOError(merged.error().message);
    });
    if (!claimed) claims_failed = claimed.error();
  });
  // The stream index (the largest: an entry per event), cut into ranges of streams merged on
  // threads of their own, into a file each.
  const std::vector<std::string> cuts = IndexSplits(static_cast<size_t>(options_.threads));
  std::vector<std::optional<StoreError>> index_failed(cuts.size() + 1);
  std::vector<std::thread> index_writers;
  for (size_t part = 0; part <= cuts.size(); ++part) {
    index_writers.emplace_back([&, part] {
      pthread_setname_np(pthread_self(), "cl-bulk-index");
      const std::string_view lower = part == 0 ? std::string_view() : std::string_view(cuts[part - 1]);
      const std::string_view upper = part == cuts.size() ? std::string_view() : std::string_view(cuts[part]);
      MemoryIndexCursor newest(touched_, seeds_, run_first_, run_offsets_);
      auto written = WriteTable(store_.streams_, "streams-" + std::to_string(part) + ".sst", [&](TableSink& w) {
        auto merged = index_runs_->MergeRange(lower, upper, &newest,
                                              [&](std::string_view key, std::string_view value) { return w.Put(key, value); });
        return merged ? rocksdb::Status::OK() : rocksdb::Status::IOError(merged.error().message);
      });
      if (!written) index_failed[part] = written.error();
    });
  }
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
  for (auto& t : index_writers) t.join();
  claims_writer.join();
  for (auto* r : {&heads, &keys, &idempotent}) {
    if (!*r) return r->error();
  }
  if (claims_failed) return *claims_failed;
  for (auto& failed : index_failed) {
    if (failed) return *failed;
  }
  return {};
}

StoreResult<void> BulkImport::Impl::Ingest() {
  std::map<rocksdb::ColumnFamilyHandle*, std::vector<std::string>> by_family;
  for (const auto& [path, cf] : files_) by_family[cf].push_back(path);
  std::vector<rocksdb::IngestExternalFileArg> args;
  for (auto& [cf, paths] : by_family) {
    rocksdb::IngestExternalFileArg arg;
    arg.column_family = cf;
    arg.external_files = std::move(paths);
    arg.options.move_files = true;  // linked: the files are on the store's file system
    arg.options.write_global_seqno = false;
    args.push_back(std::move(arg));
  }
  const uint64_t last = next_position_ - 1;
  std::vector<std::function<void(uint64_t)>> listeners;
  {
    std::lock_guard l(store_.write_mu_);
    if (store_.bg_error_) return StoreError{StoreErrorCode::kWritesRefused, store_.bg_error_->message};
    if (store_.next_position_ != first_position_ || !store_.ready_.empty() || !store_.in_flight_.empty()) {
      return StoreError{StoreErrorCode::kWrongExpectedVersion,
                        "bulk import: the store was appended to during the import; nothing was imported"};
    }
    if (!args.empty()) {
      rocksdb::Status s = store_.db_->IngestExternalFiles(args);
      if (!s.ok()) return FromStatus(s, "ingest");
    }
    if (last < first_position_) return {};  // nothing was added
    store_.next_position_ = last + 1;
    store_.tip_hash_ = tip_;
    store_.last_recorded_ = std::max(store_.last_recorded_, last_recorded_);
    store_.stats_.events += last + 1 - first_position_;
    store_.stats_.appends += appends_;
    store_.written_heads_.Clear();  // the ingested files hold heads of their own
    store_.written_claims_.Clear();  // and claims
    store_.claims_written_.fetch_add(1, std::memory_order_release);
    {
      std::lock_guard tl(store_.tip_mu_);
      store_.SetTip(ChainTip{last, tip_});
    }
    std::lock_guard cl(store_.commit_mu_);
    store_.committed_.store(last, std::memory_order_release);
    listeners = store_.listeners_;
  }
  for (const AppendRequest& erased : erasures_) {
    store_.vault_->MarkErased(erased.stream);
    store_.PurgeErased(erased);
  }
  store_.commit_cv_.notify_all();
  for (auto& f : listeners) f(last);
  return {};
}

StoreResult<BulkImportStats> BulkImport::Impl::Commit() {
  if (committed_) return Invalid("bulk import: committed already");
  committed_ = true;
  if (auto failed = Failure()) return *failed;
  const auto started = std::chrono::steady_clock::now();
  auto since = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(); };
  {
    // No chunk forms after the last: the buffers kept for the next would only add to the
    // peak of memory while the indexes are merged.
    std::lock_guard l(mu_);
    recycle_chunks_ = false;
    spare_chunks_.clear();
  }
  Submit();
  forming_ = Chunk{};
  // The indexes do not depend on the log's files: they are written while the pool writes
  // the last chunks (up to two per pool thread; at 1:100 that was ~0.4 s with nothing else
  // running, before the indexes started).
  auto indexes = WriteIndexes();
  const double indexes_written = since();
  {
    std::unique_lock l(mu_);
    space_cv_.wait(l, [&] { return error_ || (queue_.empty() && busy_ == 0); });
  }
  StopPool();
  const double log_written = since();
  if (auto failed = Failure()) return *failed;
  if (!indexes) return indexes.error();
  if (auto ingested = Ingest(); !ingested) return ingested.error();
  std::error_code ec;
  std::filesystem::remove_all(options_.work_dir, ec);  // its files were moved into the store
  StoreLog()->info("bulk import commit: indexes in {:.2f} s, the last chunks written {:.2f} s after them, ingested in {:.2f} s",
                   indexes_written, log_written - indexes_written, since() - log_written);
  BulkImportStats stats;
  stats.appends = appends_;
  stats.events = next_position_ - first_position_;
  for (const auto& s : stream_list_) stats.streams += s.state.written;
  stats.files = files_.size();
  stats.file_bytes = file_bytes_;
  stats.first_position = first_position_;
  stats.last_position = next_position_ - 1;
  StoreLog()->info("bulk import: {} events at positions {}..{} in {} files ({} bytes)", stats.events,
                   stats.first_position, stats.last_position, stats.files, stats.file_bytes);
  return stats;
}

}  // namespace caseledger::eventstore
