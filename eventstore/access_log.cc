// The access log: records queued per thread, written in entries by one writer thread,
// opened and backed up (key layout and the writer's state: access_log_impl.h; the report,
// the chain's check and pruning: access_log_read.cc).
#include "eventstore/access_log.h"

#include "eventstore/access_log_impl.h"
#include "eventstore/disk_space.h"
#include "eventstore/rocks_backup.h"
#include "eventstore/rocks_info_log.h"
#include "eventstore/record_format.h"
#include "eventstore/rocks_status.h"
#include "eventstore/store_logger.h"
#include "eventstore/varint.h"

#include <pthread.h>
#include <rocksdb/db.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/write_batch.h>

#include <boost/unordered/unordered_flat_map.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <thread>
#include <utility>

namespace caseledger::eventstore {
using namespace access_log_internal;

namespace {

domain::Timestamp SystemNow() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return domain::Timestamp{std::chrono::duration_cast<std::chrono::microseconds>(now).count()};
}

}  // namespace

StoreResult<std::optional<std::pair<uint64_t, domain::Hash>>> AccessLog::Impl::Anchor() const {
  std::string v;
  auto s = db->Get(rocksdb::ReadOptions(), "a", &v);
  if (s.IsNotFound()) return std::optional<std::pair<uint64_t, domain::Hash>>();
  if (!s.ok()) return StoreErrorFrom(s, "read anchor");
  if (v.size() != 8 + format::kHashSize) return StoreError{StoreErrorCode::kCorruption, "bad access-log anchor"};
  std::pair<uint64_t, domain::Hash> a;
  a.first = format::DecodeFixed64BE(v.data());
  std::memcpy(a.second.data(), v.data() + 8, format::kHashSize);
  return std::optional(a);
}

StoreResult<void> AccessLog::Impl::LoadTip() {
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  it->SeekForPrev("r\xff");
  if (it->Valid() && it->key().starts_with("r")) {
    if (it->key().size() != 9 || it->value().size() < format::kHashSize) {
      return StoreError{StoreErrorCode::kCorruption, "bad access-log record key"};
    }
    auto split = format::Split(it->value().ToStringView());
    const uint64_t records = split ? AccessRecordsIn(split->record_body) : 0;
    if (records == 0) return StoreError{StoreErrorCode::kCorruption, "bad access-log record"};
    last_seq = format::DecodeFixed64BE(it->key().data() + 1) + records - 1;
    last_hash = split->hash;
  } else {
    auto anchor = Anchor();
    if (!anchor) return anchor.error();
    if (*anchor) std::tie(last_seq, last_hash) = **anchor;
  }
  if (!it->status().ok()) return StoreErrorFrom(it->status(), "read access-log tip");
  visible_seq = last_seq;
  return {};
}

StoreResult<void> AccessLog::Impl::Write(const AccessRecordQueue& batch) {
  // The batch, its index entries and the record bytes reuse the buffers of the last write: a
  // fresh WriteBatch grew to a megabyte per flush at tens of thousands of reads a second,
  // and every page of it was a page fault.
  rocksdb::WriteBatch& wb = write_batch;
  wb.Clear();
  uint64_t seq = last_seq;
  domain::Hash hash = last_hash;
  char key[9] = {'r'};
  // The records go under one key per entry (format 3), not one key each: a memtable insert,
  // a hash-chain link and a WAL record header per entry. The queue holds them in format 2
  // back to back, so an entry's records are one run of its bytes.
  for (size_t i = 0; i < batch.size();) {
    const int64_t first_at = batch.At(i);
    size_t end = i + 1;
    while (end < batch.size() && end - i < kEntryRecords) {
      const int64_t at = batch.At(end);
      if (at < first_at - kEntrySpanMicros || at > first_at + kEntrySpanMicros) break;
      ++end;
    }
    const size_t begin_byte = i == 0 ? 0 : batch.entries[i - 1].end;
    body.clear();
    AppendAccessEntryHeader(body, end - i);
    body.append(batch.bytes, begin_byte, batch.entries[end - 1].end - begin_byte);
    hash = format::ChainHash(hash, seq + 1, body);
    format::AppendTrailer(body, hash);
    for (int b = 0; b < 8; ++b) key[1 + b] = static_cast<char>((seq + 1) >> (56 - 8 * b));
    wb.Put(rocksdb::Slice(key, sizeof key), body);
    seq += end - i;
    i = end;
  }
  // One index entry per person per write, keyed by the person's last record in it and
  // holding the earlier ones as varint deltas (a person read several times within a flush
  // interval costs one memtable insert, not one each). The entries go in key order after
  // the records (themselves in order): through the memtable's hint for index entries
  // (a prefix of one byte, Open) each insert is searched from the one before it.
  // The records are grouped by person through a hash map, each group a chain of its
  // records from the newest back (the order of the deltas); only the groups are sorted. A
  // sort of every (person, sequence) pair was ~15 % of this thread at 90k reads/s (18k
  // records a write, ~14 comparisons of 26-byte ids each).
  groups.clear();
  group_of.clear();
  previous.resize(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    auto [it, fresh] = group_of.try_emplace(batch.Person(i), static_cast<uint32_t>(groups.size()));
    if (fresh) {
      groups.push_back({batch.Person(i), static_cast<uint32_t>(i)});
      previous[i] = kNone;
    } else {
      previous[i] = groups[it->second].last;
      groups[it->second].last = static_cast<uint32_t>(i);
    }
  }
  std::sort(groups.begin(), groups.end(), [](const PersonGroup& a, const PersonGroup& b) { return a.person < b.person; });
  const uint64_t first = last_seq + 1;  // the batch's record i has sequence first + i
  for (const PersonGroup& g : groups) {
    index_key.assign(1, 'p');
    index_key.append(g.person);
    index_key.push_back('\0');
    format::PutFixed64BE(index_key, first + g.last);
    index_value.clear();
    for (uint32_t j = g.last; previous[j] != kNone; j = previous[j]) varint::Append(index_value, j - previous[j]);
    wb.Put(index_key, index_value);
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  auto s = db->Write(wo, &wb);
  if (!s.ok()) return StoreErrorFrom(s, "write access log");
  last_seq = seq;
  last_hash = hash;
  visible_seq = seq;
  return {};
}

void AccessLog::Impl::Take() {
  size_t from[kQueues];
  size_t n = 0;
  for (size_t q = 0; q < kQueues; ++q) {
    {
      std::lock_guard lock(queues[q].mu);
      if (queues[q].records.empty()) continue;
      std::swap(spare[q], queues[q].records);  // the queue takes the buffers emptied last time
    }
    taken[q] += spare[q].size();
    from[n++] = q;
  }
  if (n == 1) batch.Append(spare[from[0]]);
  if (n > 1) {
    // Merged by instant, as one queue held them in the order of the calls: a person read on
    // two connections is listed in the order of the reads.
    size_t next[kQueues] = {};
    int64_t at[kQueues] = {};
    auto instant = [&](size_t k) {
      const AccessRecordQueue& r = spare[from[k]];
      if (next[k] < r.size()) at[k] = r.At(next[k]);
    };
    for (size_t k = 0; k < n; ++k) instant(k);
    for (;;) {
      size_t best = n;
      for (size_t k = 0; k < n; ++k) {
        if (next[k] < spare[from[k]].size() && (best == n || at[k] < at[best])) best = k;
      }
      if (best == n) break;
      batch.AppendOne(spare[from[best]], next[best]++);
      instant(best);
    }
  }
  for (size_t k = 0; k < n; ++k) {
    AccessRecordQueue& r = spare[from[k]];
    r.Clear();
    if (r.bytes.capacity() > (size_t{64} << 20)) r = AccessRecordQueue();  // grew while held
  }
}

uint64_t AccessLog::Impl::Queued() {
  uint64_t n = 0;
  for (ThreadQueue& q : queues) {
    std::lock_guard lock(q.mu);
    n += q.records.size();
  }
  return n;
}

void AccessLog::Impl::Run() {
  std::unique_lock lock(mu);
  for (;;) {
    // One synced write per flush interval carries everything queued meanwhile. Record()
    // never wakes this thread (a wake per person read cost more than the read itself);
    // Flush() and the destructor do.
    wake.wait_for(lock, options.flush_interval, [&] { return stopping || flush_wanted; });
    flush_wanted = false;
    // After a failed write nothing is taken any more: the queues hold what comes.
    if (!failure) Take();
    if (stopping && (batch.empty() || failure)) break;
    if (batch.empty() && no_space && !BelowFreeSpaceFloor(options.path, options.min_free_bytes, "")) {
      no_space.reset();  // nothing to write (reads were refused meanwhile), and space is back
      NoteRefusal();
      StoreLog()->info("access log: free space is back");
    }
    if (!batch.empty() && !failure) {
      lock.unlock();
      auto low = BelowFreeSpaceFloor(options.path, options.min_free_bytes, "the access log");
      StoreResult<void> result = low ? StoreResult<void>(*low) : Write(batch);
      lock.lock();
      if (result) {
        for (size_t q = 0; q < kQueues; ++q) written[q] += std::exchange(taken[q], 0);
        batch.Clear();
        // Buffers that grew while records were held (no space) are not kept at that size.
        if (batch.bytes.capacity() > (size_t{64} << 20)) batch = AccessRecordQueue();
        if (no_space) StoreLog()->info("access log: free space is back, records written again");
        no_space.reset();
        NoteRefusal();
      } else {
        // Held, in order, before whatever is queued meanwhile (Take appends after them):
        // written once it can be.
        if (low) {
          if (!no_space) StoreLog()->error("access log: {}", low->message);
          no_space = *low;
        } else {
          failure = result.error();
          StoreLog()->critical("access log write failed; reads of personal data are refused until a restart: {}",
                               result.error().message);
        }
        NoteRefusal();
      }
      ++attempts;
      flushed.notify_all();
      if (stopping && !batch.empty()) break;
    }
    if (std::chrono::steady_clock::now() >= next_prune && !no_space && !failure) {
      next_prune = std::chrono::steady_clock::now() + kPruneEvery;
      lock.unlock();
      if (auto pruned = Prune(); !pruned) StoreLog()->warn("access log prune: {}", pruned.error().message);
      lock.lock();
    }
  }
  if (const uint64_t left = batch.size() + Queued(); left > 0) {
    StoreLog()->error("access log: {} records of reads could not be written before the stop", left);
  }
}

StoreResult<std::unique_ptr<AccessLog>> AccessLog::Open(const AccessLogOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  if (!impl->options.clock) impl->options.clock = SystemNow;
  rocksdb::Options o;
  o.info_log = RocksInfoLog();  // not a LOG file on the data volume (rocks_info_log.h)
  o.create_if_missing = true;
  o.compression = rocksdb::kLZ4Compression;
  // The memtable's insert hint per kind of key (a prefix of one byte: 'r' records, 'p' index
  // entries, 'a' the anchor). A write inserts its records (in order) and then its index
  // entries (in key order, far from the records): without hints RocksDB keeps one splice and
  // recomputes it whole for any key not right next to the one before, so each write's first
  // record and every index entry were a search from the top of the skip list. With a splice
  // per kind, the records continue where the last write's ended and each index entry is
  // searched from the one before it, only as high as their distance requires.
  o.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(1));
  rocksdb::DB* db = nullptr;
  CreateDatabaseDirectory(options.path);
  auto s = rocksdb::DB::Open(o, options.path, &db);
  if (!s.ok()) return StoreErrorFrom(s, "open access log");
  impl->db.reset(db);
  if (auto tip = impl->LoadTip(); !tip) return tip.error();
  // Prune once now, then hourly from the writer: a server restarted often still prunes.
  if (auto pruned = impl->Prune(); !pruned) StoreLog()->warn("access log prune: {}", pruned.error().message);
  impl->next_prune = std::chrono::steady_clock::now() + kPruneEvery;
  std::unique_ptr<AccessLog> log(new AccessLog(std::move(impl)));
  Impl* raw = log->impl_.get();
  raw->writer = std::thread([raw] {
    pthread_setname_np(pthread_self(), "cl-access-log");
    raw->Run();
  });
  return log;
}

AccessLog::AccessLog(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

AccessLog::~AccessLog() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  impl_->writer.join();
}

namespace {

// The calling thread's queue: threads take them in turn as they first record (the server's
// I/O threads, started together, each their own).
size_t ThisThreadsQueue(size_t queues) {
  static std::atomic<size_t> next{0};
  thread_local const size_t mine = next.fetch_add(1, std::memory_order_relaxed);
  return mine % queues;
}

}  // namespace

void AccessLog::Record(const AccessRecordView& record) {
  Impl::ThreadQueue& q = impl_->queues[ThisThreadsQueue(Impl::kQueues)];
  std::lock_guard lock(q.mu);
  q.records.Add(record);
  ++q.queued;
}

StoreResult<void> AccessLog::Flush() {
  std::unique_lock lock(impl_->mu);
  // Every record queued before this call, in whichever queue: each queue's count now.
  std::array<uint64_t, Impl::kQueues> target;
  for (size_t q = 0; q < Impl::kQueues; ++q) {
    std::lock_guard queue_lock(impl_->queues[q].mu);
    target[q] = impl_->queues[q].queued;
  }
  auto all_written = [&] {
    for (size_t q = 0; q < Impl::kQueues; ++q) {
      if (impl_->written[q] < target[q]) return false;
    }
    return true;
  };
  impl_->flush_wanted = true;
  impl_->wake.notify_one();
  const uint64_t tried = impl_->attempts;
  impl_->flushed.wait(lock, [&] {
    return all_written() || impl_->failure || (impl_->no_space && impl_->attempts > tried);
  });
  if (all_written()) return {};
  return impl_->failure ? *impl_->failure : *impl_->no_space;
}

std::optional<StoreError> AccessLog::WriteRefusal() const {
  if (!impl_->refusing.load(std::memory_order_acquire)) return std::nullopt;
  std::lock_guard lock(impl_->mu);
  if (impl_->failure) return impl_->failure;
  return impl_->no_space;
}

uint64_t AccessLog::LastSequence() const { return impl_->visible_seq; }

StoreResult<uint64_t> AccessLog::BackupTo(const std::string& dir) {
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->failure) return StoreError(StoreErrorCode::kWritesRefused, "no backup after a failed write: " + impl_->failure->message);
  }
  const uint64_t held = impl_->visible_seq;  // written (synced) before the backup copies the WAL
  auto id = CreateRocksBackup(*impl_->db, dir, std::to_string(held));
  if (!id) return id.error();
  return held;
}

uint64_t AccessLog::Pending() const {
  std::lock_guard l(impl_->mu);
  return impl_->batch.size() + impl_->Queued();
}

}  // namespace caseledger::eventstore
