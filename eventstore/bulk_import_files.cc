// The bulk import's second half (bulk_import.cc says the whole order): 2. the pool that
// chains each full chunk from the tip before it and writes it as a table file of the events
// family (and writes the runs handed to it: bulk_import_runs.cc), 3. Commit: the runs
// merged into the stream index and claims (bulk_import_runs.cc), heads, keys and
// idempotency records as sorted files, ingested in one IngestExternalFiles call under the
// store's write lock.
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
      work_cv_.wait(l, [&] { return stopping_ || !queue_.empty() || !tasks_.empty(); });
      if (!tasks_.empty() && !stopping_) {
        // A run: it waits for nothing, and no chunk waits for it (the chain goes on through
        // the other threads, or after it).
        std::function<void()> task = std::move(tasks_.front());
        tasks_.pop_front();
        l.unlock();
        task();
        continue;
      }
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
    store_.heads_written_.fetch_add(1, std::memory_order_release);  // a head read before them is stale
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
