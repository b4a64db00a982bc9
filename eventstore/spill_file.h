// A scratch file of variable-size records that a bounded-memory loader writes its cold state
// to and reads back (the generator's people, `caseledger import`'s people), written as a log:
// records are packed one after another into the open segment (4 MiB by default) and reach the
// file in one write per segment or per Flush, at the segment's end, never in place. A record
// written again goes to the open segment and its old copy is released; a segment whose copies
// are all released is taken again, and once the segments in use hold more than twice the live
// bytes (and two segments), the sparsest are named by SparseSegments for their records to be
// moved (Move), so the file stays within about twice the live bytes. Writing in place cost
// ext4's buffered write per record (a page-cache look-up, a part page zeroed on first touch):
// ~1-2 us a record of ~700 bytes here, where a 2 MiB write of packed records costs ~0.16 us
// a record. Nothing is synced: the file lives for one process.
//
// Not thread-safe. The file is created (truncated) by Create and removed by the destructor.
#pragma once

#include "eventstore/event_store.h"

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <pthread.h>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace caseledger::eventstore {

class SpillFile {
 public:
  static constexpr uint64_t kSegmentBytes = 4 << 20;

  // Where a record's copy is; size 0: none. Kept per record by the caller.
  struct Slot {
    uint64_t offset = 0;
    uint32_t size = 0;
  };

  // `segment_bytes`: 64 bytes to 4 GiB; no record may be larger.
  static StoreResult<std::unique_ptr<SpillFile>> Create(std::string path, uint64_t segment_bytes = kSegmentBytes);
  ~SpillFile();
  SpillFile(const SpillFile&) = delete;
  SpillFile& operator=(const SpillFile&) = delete;

  // The bytes of the records being appended: a caller encodes record `index` at the end of
  // buffer() and then calls Place(index, where it began, slot) (or appends it whole with
  // Append). `slot` is set to where the copy goes; it reaches the file by the next Flush, and
  // must not be read (nor released) before. A record over the segment size is refused
  // (kInvalidArgument) and its bytes dropped.
  std::string& buffer() { return buffer_; }
  StoreResult<void> Place(uint32_t index, size_t start, Slot& slot);
  StoreResult<void> Append(uint32_t index, std::string_view bytes, Slot& slot);
  // Copies record `index`'s flushed copy at `slot` to the open segment and releases the old
  // one; `slot` is set to the new copy.
  StoreResult<void> Move(uint32_t index, Slot& slot);
  // Writes what was appended since the last Flush.
  StoreResult<void> Flush();
  // The copy at `slot` is no longer needed (the record was read back to be kept, or written
  // again). size 0: nothing.
  void Release(const Slot& slot);
  // Reads the copy at `slot` into `out` (resized to it). REQUIRES: slot.size > 0, flushed.
  StoreResult<void> Read(const Slot& slot, std::string& out) const;

  // While the segments in use hold more than twice the live bytes (and two segments), up to
  // `at_most` of them, sparsest first (never the open one), for their records to be moved.
  std::vector<uint32_t> SparseSegments(size_t at_most) const;
  // The records appended to segment `s` since it was taken: each either still has its copy
  // there (the caller's slot says so) or was released.
  const std::vector<uint32_t>& RecordsIn(uint32_t s) const { return segments_[s].records; }
  uint32_t SegmentOf(const Slot& slot) const { return static_cast<uint32_t>(slot.offset / segment_bytes_); }

  const std::string& path() const { return path_; }
  uint64_t file_bytes() const { return file_end_; }
  uint64_t live_bytes() const { return live_bytes_; }

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  struct Segment {
    uint64_t live = 0;               // bytes of copies not released
    std::vector<uint32_t> records;   // appended since taken
    bool free = false;
  };

  SpillFile(std::string path, int fd, uint64_t segment_bytes)
      : path_(std::move(path)), fd_(fd), segment_bytes_(segment_bytes) {}
  // Writes the buffer's first `bytes` at buffer_offset_ and drops them from it.
  StoreResult<void> WriteOut(size_t bytes);
  StoreResult<void> ReadInto(const Slot& slot, char* out) const;
  uint32_t TakeSegment();
  void FreeSegment(uint32_t s);

  std::string path_;
  int fd_ = -1;
  uint64_t segment_bytes_;
  uint64_t file_end_ = 0;
  uint64_t live_bytes_ = 0;
  std::vector<Segment> segments_;  // segment s at s * segment_bytes_
  std::vector<uint32_t> free_;     // segments with no copy, to be taken again
  uint32_t open_ = kNone;          // the segment being filled
  uint64_t open_used_ = 0;         // its bytes, written or in the buffer
  std::string buffer_;             // appended, not yet written: at buffer_offset_
  uint64_t buffer_offset_ = 0;
};

// Records numbered from 0 in the order added, at most `in_memory` held decoded; the others
// wait in a SpillFile and are read back by Get. The bounded store of both loaders (the
// generator's people, `caseledger import`'s people): a clock (second chance) picks what
// Trim writes out. `encode` appends a record's bytes in the file to its string, `decode`
// reads them back; a decode failure is the caller's error (kCorruption, naming the file).
// A record read back to be kept gives up its copy in the file (it is written whole again
// when it is dropped again); Trim also moves the records of the file's sparsest segments
// (SpillFile::SparseSegments), at most kSegmentsMovedPerTrim a time. Not thread-safe (with
// `background`, its own writer thread is internal to it).
template <class T>
class SpilledRecords {
 public:
  using Encoder = std::function<void(const T&, std::string& out)>;
  using Decoder = std::function<StoreResult<std::unique_ptr<T>>(std::string_view bytes, const std::string& path)>;
  static constexpr size_t kSegmentsMovedPerTrim = 4;

  // `path` empty: everything in memory; else the file is created by Open and removed by the
  // destructor. `in_memory` >= 1. `background`: the records Trim drops are encoded and
  // written by a thread of the store's own while the caller goes on (one batch at a time;
  // a Get of a record in it waits for the batch); `encode` must be safe to call there.
  // `segment_bytes`: the file's (SpillFile::Create), the largest record it takes.
  SpilledRecords(std::string path, size_t in_memory, Encoder encode, Decoder decode, bool background = false,
                 uint64_t segment_bytes = SpillFile::kSegmentBytes)
      : path_(std::move(path)), in_memory_(in_memory < 1 ? 1 : in_memory), encode_(std::move(encode)),
        decode_(std::move(decode)), background_(background), segment_bytes_(segment_bytes) {}
  ~SpilledRecords() {
    if (!writer_.joinable()) return;
    {
      std::lock_guard l(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    writer_.join();
  }
  SpilledRecords(const SpilledRecords&) = delete;
  SpilledRecords& operator=(const SpilledRecords&) = delete;

  StoreResult<void> Open() {
    if (path_.empty()) return {};
    auto file = SpillFile::Create(path_, segment_bytes_);
    if (!file) return file.error();
    file_ = std::move(*file);
    if (background_) writer_ = std::thread([this] {
        pthread_setname_np(pthread_self(), "cl-spill");
        WriteBatches();
      });
    return {};
  }

  size_t size() const { return slots_.size(); }
  // Adds a record; its index is the size before. Valid until the next Trim().
  T* Add(std::unique_ptr<T> record) {
    Slot& slot = slots_.emplace_back();
    slot.record = std::move(record);
    slot.referenced = true;
    loaded_.push_back(slots_.size() - 1);
    return slot.record.get();
  }
  // The record at `index`, read back if it was written out. Valid until the next Trim().
  // `fresh` is set when it was read back. A dropped record is kInvalidArgument.
  StoreResult<T*> Get(size_t index, bool* fresh = nullptr) {
    if (slots_[index].dropped) {
      return StoreError(StoreErrorCode::kInvalidArgument, "record " + std::to_string(index) + " was dropped");
    }
    if (slots_[index].pending) {
      if (auto collected = Collect(); !collected) return collected.error();
    }
    Slot& slot = slots_[index];
    slot.referenced = true;
    if (fresh) *fresh = false;
    if (slot.record) return slot.record.get();
    auto record = ReadBack(slot);
    if (!record) return record.error();
    slot.record = std::move(*record);
    // Its copy is given up: the record is written whole again when it is dropped again.
    if (background_) {
      released_.push_back(slot.where);  // the file is the writer's until the next Trim
    } else {
      file_->Release(slot.where);
    }
    slot.where = {};
    loaded_.push_back(index);
    ++stats_.read;
    if (fresh) *fresh = true;
    return slot.record.get();
  }
  // Whether the record at `index` is held decoded (Get gives it without reading it back).
  bool Held(size_t index) const { return slots_[index].record != nullptr; }
  // Forgets the record at `index` for good: it is freed (REQUIRES: no reference to it from
  // Get is held), its copy in the file released, it is never written out again, and Get
  // and ForEach no longer give it. For a caller that keeps what it still needs of a record
  // in another form (the generator's dormant people: demo_person_store.h).
  void Drop(size_t index) {
    Slot& slot = slots_[index];
    slot.dropped = true;
    slot.record.reset();  // its place in the clock's ring goes when the hand reaches it
    // A copy still being written by the writer thread is released once collected.
    if (slot.pending || slot.where.size == 0) return;
    if (background_) {
      released_.push_back(slot.where);
    } else {
      file_->Release(slot.where);
    }
    slot.where = {};
  }
  // Writes records out until at most `in_memory` stay decoded.
  StoreResult<void> Trim() {
    if (!file_) return {};
    // Written in batches of at least 1/64 of the budget: Trim runs between every two steps of
    // the caller, and a batch of a few records cost a write (and a wake-up of the writer
    // thread) each: the 1:10 load wrote 736 k people in 116 k batches, now in ~180.
    if (loaded_.size() <= in_memory_ + in_memory_ / 64) return {};
    if (background_) {
      // The batch before still being written: the records wait in memory, up to half the
      // budget more, rather than the caller waiting.
      if (Busy() && loaded_.size() <= in_memory_ + in_memory_ / 2) return {};
      if (auto collected = Collect(); !collected) return collected;
      for (const SpillFile::Slot& where : released_) file_->Release(where);
      released_.clear();
    }
    // The sparsest segments' records move to the open segment, so that those segments can
    // be taken again: on the writer thread with the batch, or here.
    for (const uint32_t s : file_->SparseSegments(kSegmentsMovedPerTrim)) {
      moving_ = file_->RecordsIn(s);  // a copy: moving here changes the file's lists
      for (const uint32_t index : moving_) {
        Slot& slot = slots_[index];
        if (slot.record || slot.pending || slot.where.size == 0 || file_->SegmentOf(slot.where) != s) continue;
        ++stats_.moved;
        if (background_) {
          batch_.push_back({index, nullptr, slot.where});
          slot.pending = true;
        } else if (auto moved = file_->Move(static_cast<uint32_t>(index), slot.where); !moved) {
          return moved;
        }
      }
    }
    while (loaded_.size() > in_memory_) {
      if (hand_ >= loaded_.size()) hand_ = 0;
      Slot& slot = slots_[loaded_[hand_]];
      if (slot.dropped) {  // freed already: only its place in the ring goes
        loaded_[hand_] = loaded_.back();
        loaded_.pop_back();
        continue;
      }
      if (slot.referenced) {
        slot.referenced = false;
        ++hand_;
        continue;
      }
      if (background_) {
        batch_.push_back({loaded_[hand_], std::move(slot.record), slot.where});
        slot.pending = true;
      } else {
        if (auto written = WriteOut(loaded_[hand_], *slot.record, slot.where); !written) return written;
        slot.record.reset();
      }
      ++stats_.written;
      loaded_[hand_] = loaded_.back();  // the hand now points at one it has not seen
      loaded_.pop_back();
    }
    if (background_) {
      if (!batch_.empty()) {
        ++stats_.batches;
        {
          std::lock_guard l(mu_);
          busy_ = true;
        }
        cv_.notify_all();
      }
      return {};
    }
    if (!file_->buffer().empty()) ++stats_.batches;
    if (auto flushed = file_->Flush(); !flushed) return flushed;
    stats_.file_bytes = file_->file_bytes();
    return {};
  }
  // Calls `visit` with every record not dropped, in index order, reading the written ones
  // back without keeping them.
  StoreResult<void> ForEach(const std::function<void(const T&)>& visit) {
    if (auto collected = Collect(); !collected) return collected;
    for (Slot& slot : slots_) {
      if (slot.dropped) continue;
      if (slot.record) {
        visit(*slot.record);
        continue;
      }
      auto record = ReadBack(slot);
      if (!record) return record.error();
      visit(**record);
    }
    return {};
  }

  struct Stats {
    uint64_t written = 0;  // records written out
    uint64_t read = 0;     // records read back
    uint64_t moved = 0;    // copies moved out of sparse segments
    uint64_t batches = 0;  // Trims that wrote (handed a batch to the writer thread)
    uint64_t file_bytes = 0;
  };
  const Stats& stats() const { return stats_; }

 private:
  struct Slot {
    std::unique_ptr<T> record;  // null: in the file
    SpillFile::Slot where;      // its copy in the file; size 0: none
    bool referenced = false;
    bool pending = false;  // in the batch the writer thread has (record null until it is written)
    bool dropped = false;  // Drop: no record, no copy
  };
  // A record Trim dropped (or one whose copy moves: record null), with its copy; the writer
  // thread encodes and writes it.
  struct Job {
    size_t index;
    std::unique_ptr<T> record;
    SpillFile::Slot where;
  };

  bool Busy() {
    std::lock_guard l(mu_);
    return busy_;
  }
  // Encodes `record` into the file's buffer in place of its copy at `where`.
  StoreResult<void> WriteOut(size_t index, const T& record, SpillFile::Slot& where) {
    const size_t start = file_->buffer().size();
    encode_(record, file_->buffer());
    file_->Release(where);
    where = {};
    return file_->Place(static_cast<uint32_t>(index), start, where);
  }
  // Waits for the batch in flight and records where its records went.
  StoreResult<void> Collect() {
    if (!background_ || !file_) return {};
    std::unique_lock l(mu_);
    cv_.wait(l, [&] { return !busy_; });
    for (Job& job : batch_) {
      Slot& slot = slots_[job.index];
      slot.pending = false;
      if (slot.dropped) {  // dropped while being written: the writer is done with the file
        file_->Release(job.where);
        continue;
      }
      slot.where = job.where;
    }
    batch_.clear();
    stats_.file_bytes = file_->file_bytes();
    if (writer_error_) return *writer_error_;
    return {};
  }
  // The writer thread: between Trim's hand-over (busy_) and Collect, batch_ and the file's
  // writing side are its own; the caller only reads records not in the batch.
  void WriteBatches() {
    std::unique_lock l(mu_);
    for (;;) {
      cv_.wait(l, [&] { return busy_ || stopping_; });
      if (!busy_) return;
      l.unlock();
      std::optional<StoreError> failed;
      for (Job& job : batch_) {
        if (!failed) {
          auto written = job.record ? WriteOut(job.index, *job.record, job.where)
                                    : file_->Move(static_cast<uint32_t>(job.index), job.where);
          if (!written) failed = written.error();
        }
        job.record.reset();
      }
      if (!failed) {
        if (auto flushed = file_->Flush(); !flushed) failed = flushed.error();
      }
      l.lock();
      if (failed && !writer_error_) writer_error_ = std::move(failed);
      busy_ = false;
      cv_.notify_all();
    }
  }
  StoreResult<std::unique_ptr<T>> ReadBack(const Slot& slot) {
    if (auto read = file_->Read(slot.where, buffer_); !read) return read.error();
    return decode_(buffer_, path_);
  }

  std::string path_;
  size_t in_memory_;
  Encoder encode_;
  Decoder decode_;
  std::unique_ptr<SpillFile> file_;  // null: everything in memory
  std::string buffer_;               // a record read back
  std::vector<Slot> slots_;
  std::vector<size_t> loaded_;  // indexes held decoded, the clock's ring
  size_t hand_ = 0;
  Stats stats_;
  bool background_ = false;
  uint64_t segment_bytes_;
  std::vector<uint32_t> moving_;            // the records of a segment being emptied
  std::vector<SpillFile::Slot> released_;  // copies given up while the writer had the file
  std::vector<Job> batch_;  // the writer's while busy_
  std::mutex mu_;
  std::condition_variable cv_;
  bool busy_ = false;
  bool stopping_ = false;
  std::optional<StoreError> writer_error_;
  std::thread writer_;  // last: joined by the destructor before the rest goes
};

}  // namespace caseledger::eventstore
