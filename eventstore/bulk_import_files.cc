// The bulk import's second half (bulk_import.cc says the whole order): 2. the pool that
// chains each full chunk from the tip before it and writes it as a table file of the events
// family, the sorted runs of the index and claims (1b), 3. Commit: the runs merged into the
// stream index and claims, heads, keys and idempotency records as sorted files, ingested in
// one IngestExternalFiles call under the store's write lock.
#include "eventstore/bulk_import_impl.h"

#include "eventstore/store_logger.h"

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
  if (forming_.records.empty()) return;
  Chunk chunk = std::move(forming_);
  chunk.index = chunks_++;
  forming_ = Chunk{};
  forming_.first_position = next_position_;
  forming_.records.reserve(chunk.records.size());
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
  for (size_t i = 0; i < chunk.records.size(); ++i) {
    prev = format::ChainHash(prev, chunk.first_position + i, chunk.records[i]);
    format::AppendTrailer(chunk.records[i], prev);  // the stored value, in place
  }
  {
    std::lock_guard l(mu_);
    tip_ = prev;
    ++hashed_chunks_;
  }
  chain_cv_.notify_all();
  char name[32];
  std::snprintf(name, sizeof name, "events-%06llu.sst", static_cast<unsigned long long>(chunk.index));
  return WriteTable(store_.events_, name, [&](TableSink& w) {
    for (size_t i = 0; i < chunk.records.size(); ++i) {
      rocksdb::Status s = w.Put(format::PositionKey(chunk.first_position + i), chunk.records[i]);
      if (!s.ok()) return s;
      std::string().swap(chunk.records[i]);
    }
    return rocksdb::Status::OK();
  });
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

StoreResult<void> BulkImport::Impl::FlushIndexRun() {
  SortByName(touched_, [](const auto& t) { return std::string_view(*t.first); });
  // A stream's keys (its name, '\0', the version) sort as its name does: the key seed at
  // version 0 first, then the index entries in version order.
  auto written = index_runs_->Write([&](TableSink& w) {
    for (const auto& [name, s] : touched_) {
      if (auto seed = seeds_.find(s); seed != seeds_.end()) {
        if (auto st = w.Put(format::KeySeedKey(*name), seed->second); !st.ok()) return st;
      }
      for (size_t k = 0; k < s->positions.size(); ++k) {
        rocksdb::Status st = w.Put(format::StreamKey(*name, s->first_version + k), format::EncodePositionRef(s->positions[k]));
        if (!st.ok()) return st;
      }
    }
    return rocksdb::Status::OK();
  });
  for (const auto& [name, s] : touched_) {
    std::vector<uint64_t>().swap(s->positions);
    s->in_run = false;
  }
  touched_.clear();
  for (auto& [stream, seed] : seeds_) sodium_memzero(seed.data(), seed.size());
  seeds_.clear();
  buffered_entries_ = 0;
  return written;
}

StoreResult<void> BulkImport::Impl::FlushClaimRun() {
  std::vector<std::pair<std::string_view, std::string_view>> claims(claims_.begin(), claims_.end());
  SortByName(claims, [](const auto& c) { return c.first; });  // claims are unique
  auto written = claim_runs_->Write([&](TableSink& w) {
    for (const auto& [claim, stream] : claims) {
      if (auto st = w.Put(claim, stream); !st.ok()) return st;  // "": released
    }
    return rocksdb::Status::OK();
  });
  claims.clear();
  claims_.clear();
  return written;
}

StoreResult<void> BulkImport::Impl::WriteIndexes() {
  if (auto flushed = FlushIndexRun(); !flushed) return flushed.error();
  if (auto flushed = FlushClaimRun(); !flushed) return flushed.error();
  // The stream index: the runs merged, on a thread of its own.
  std::optional<StoreError> index_failed;
  std::thread index_writer([&] {
    auto written = WriteTable(store_.streams_, "streams.sst", [&](TableSink& w) {
      auto merged = index_runs_->Merge([&](std::string_view key, std::string_view value) { return w.Put(key, value); });
      return merged ? rocksdb::Status::OK() : rocksdb::Status::IOError(merged.error().message);
    });
    if (!written) index_failed = written.error();
  });
  // Meanwhile, on this thread: heads, keys, claims and idempotency records.
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
  auto claimed = WriteTable(store_.claims_, "claims.sst", [&](TableSink& w) {
    auto merged = claim_runs_->Merge([&](std::string_view claim, std::string_view stream) {
      return stream.empty() ? w.Delete(claim) : w.Put(claim, stream);
    });
    return merged ? rocksdb::Status::OK() : rocksdb::Status::IOError(merged.error().message);
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
  for (auto* r : {&heads, &keys, &claimed, &idempotent}) {
    if (!*r) return r->error();
  }
  if (index_failed) return *index_failed;
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
    if (store_.next_position_ != first_position_ || !store_.ready_.empty() || store_.syncing_) {
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
  Submit();
  {
    std::unique_lock l(mu_);
    space_cv_.wait(l, [&] { return error_ || (queue_.empty() && busy_ == 0); });
  }
  if (auto failed = Failure()) return *failed;
  StopPool();
  const double log_written = since();
  if (auto indexes = WriteIndexes(); !indexes) return indexes.error();
  const double indexes_written = since();
  if (auto ingested = Ingest(); !ingested) return ingested.error();
  std::error_code ec;
  std::filesystem::remove_all(options_.work_dir, ec);  // its files were moved into the store
  StoreLog()->info("bulk import commit: last chunks written in {:.2f} s, indexes in {:.2f} s, ingested in {:.2f} s",
                   log_written, indexes_written - log_written, since() - indexes_written);
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
