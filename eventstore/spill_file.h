// A scratch file of variable-size records that a bounded-memory loader writes its cold state
// to and reads back (the generator's people, `caseledger import`'s people): each record sits
// in a slot of a power-of-two size class (64 bytes and up); a record rewritten in another
// class moves, and its old slot is reused by the next record of that class, so the file stays
// within about twice the live bytes. Nothing is synced: the file lives for one process.
//
// Not thread-safe. The file is created (truncated) by Create and removed by the destructor.
#pragma once

#include "eventstore/event_store.h"

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
  // Where a record is; size 0: none written yet. 16 bytes, kept per record by the caller.
  struct Slot {
    uint64_t offset = 0;
    uint32_t size = 0;
    uint8_t size_class = 0;
  };

  static StoreResult<std::unique_ptr<SpillFile>> Create(std::string path);
  ~SpillFile();
  SpillFile(const SpillFile&) = delete;
  SpillFile& operator=(const SpillFile&) = delete;

  // Writes `bytes` as the record of `slot` (moving it to another slot if its class changes).
  StoreResult<void> Write(Slot& slot, std::string_view bytes);
  // Reads the record of `slot` into `out` (resized to it). REQUIRES: slot.size > 0.
  StoreResult<void> Read(const Slot& slot, std::string& out) const;

  const std::string& path() const { return path_; }
  uint64_t file_bytes() const { return file_end_; }

 private:
  SpillFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}

  std::string path_;
  int fd_ = -1;
  uint64_t file_end_ = 0;
  std::vector<std::vector<uint64_t>> free_;  // free slot offsets by size class
};

// Records numbered from 0 in the order added, at most `in_memory` held decoded; the others
// wait in a SpillFile and are read back by Get. The bounded store of both loaders (the
// generator's people, `caseledger import`'s people): a clock (second chance) picks what
// Trim writes out. `encode` and `decode` give a record's bytes in the file; a decode failure
// is the caller's error (kCorruption, naming the file). Not thread-safe (with `background`,
// its own writer thread is internal to it).
template <class T>
class SpilledRecords {
 public:
  using Encoder = std::function<std::string(const T&)>;
  using Decoder = std::function<StoreResult<std::unique_ptr<T>>(std::string_view bytes, const std::string& path)>;

  // `path` empty: everything in memory; else the file is created by Open and removed by the
  // destructor. `in_memory` >= 1. `background`: the records Trim drops are encoded and
  // written by a thread of the store's own while the caller goes on (one batch at a time;
  // a Get of a record in it waits for the batch); `encode` must be safe to call there.
  SpilledRecords(std::string path, size_t in_memory, Encoder encode, Decoder decode, bool background = false)
      : path_(std::move(path)), in_memory_(in_memory < 1 ? 1 : in_memory), encode_(std::move(encode)),
        decode_(std::move(decode)), background_(background) {}
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
    auto file = SpillFile::Create(path_);
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
  // `fresh` is set when it was read back.
  StoreResult<T*> Get(size_t index, bool* fresh = nullptr) {
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
    loaded_.push_back(index);
    ++stats_.read;
    if (fresh) *fresh = true;
    return slot.record.get();
  }
  // Writes records out until at most `in_memory` stay decoded.
  StoreResult<void> Trim() {
    if (!file_) return {};
    if (background_) {
      // The batch before still being written: the records wait in memory, up to half the
      // budget more, rather than the caller waiting.
      if (Busy() && loaded_.size() <= in_memory_ + in_memory_ / 2) return {};
      if (auto collected = Collect(); !collected) return collected;
    }
    while (loaded_.size() > in_memory_) {
      if (hand_ >= loaded_.size()) hand_ = 0;
      Slot& slot = slots_[loaded_[hand_]];
      if (slot.referenced) {
        slot.referenced = false;
        ++hand_;
        continue;
      }
      if (background_) {
        batch_.push_back({loaded_[hand_], std::move(slot.record), slot.where});
        slot.pending = true;
      } else {
        if (auto written = file_->Write(slot.where, encode_(*slot.record)); !written) return written;
        slot.record.reset();
      }
      ++stats_.written;
      loaded_[hand_] = loaded_.back();  // the hand now points at one it has not seen
      loaded_.pop_back();
    }
    if (background_) {
      if (!batch_.empty()) {
        {
          std::lock_guard l(mu_);
          busy_ = true;
        }
        cv_.notify_all();
      }
      return {};
    }
    stats_.file_bytes = file_->file_bytes();
    return {};
  }
  // Calls `visit` with every record in index order, reading the written ones back without
  // keeping them.
  StoreResult<void> ForEach(const std::function<void(const T&)>& visit) {
    if (auto collected = Collect(); !collected) return collected;
    for (Slot& slot : slots_) {
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
    uint64_t file_bytes = 0;
  };
  const Stats& stats() const { return stats_; }

 private:
  struct Slot {
    std::unique_ptr<T> record;  // null: in the file
    SpillFile::Slot where;
    bool referenced = false;
    bool pending = false;  // in the batch the writer thread has (record null until it is written)
  };
  // A record Trim dropped, with where it goes; the writer thread encodes and writes it.
  struct Job {
    size_t index;
    std::unique_ptr<T> record;
    SpillFile::Slot where;
  };

  bool Busy() {
    std::lock_guard l(mu_);
    return busy_;
  }
  // Waits for the batch in flight and records where its records went.
  StoreResult<void> Collect() {
    if (!background_ || !file_) return {};
    std::unique_lock l(mu_);
    cv_.wait(l, [&] { return !busy_; });
    for (Job& job : batch_) {
      slots_[job.index].where = job.where;
      slots_[job.index].pending = false;
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
          if (auto written = file_->Write(job.where, encode_(*job.record)); !written) failed = written.error();
        }
        job.record.reset();
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
  std::vector<Job> batch_;  // the writer's while busy_
  std::mutex mu_;
  std::condition_variable cv_;
  bool busy_ = false;
  bool stopping_ = false;
  std::optional<StoreError> writer_error_;
  std::thread writer_;  // last: joined by the destructor before the rest goes
};

}  // namespace caseledger::eventstore
