// A scratch file of variable-size records that a bounded-memory loader writes its cold state
// to and reads back (the generator's people, `caseledger import`'s people): each record sits
// in a slot of a power-of-two size class (64 bytes and up); a record rewritten in another
// class moves, and its old slot is reused by the next record of that class, so the file stays
// within about twice the live bytes. Nothing is synced: the file lives for one process.
//
// Not thread-safe. The file is created (truncated) by Create and removed by the destructor.
#pragma once

#include "eventstore/event_store.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
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
// is the caller's error (kCorruption, naming the file). Not thread-safe.
template <class T>
class SpilledRecords {
 public:
  using Encoder = std::function<std::string(const T&)>;
  using Decoder = std::function<StoreResult<std::unique_ptr<T>>(std::string_view bytes, const std::string& path)>;

  // `path` empty: everything in memory; else the file is created by Open and removed by the
  // destructor. `in_memory` >= 1.
  SpilledRecords(std::string path, size_t in_memory, Encoder encode, Decoder decode)
      : path_(std::move(path)), in_memory_(in_memory < 1 ? 1 : in_memory), encode_(std::move(encode)),
        decode_(std::move(decode)) {}

  StoreResult<void> Open() {
    if (path_.empty()) return {};
    auto file = SpillFile::Create(path_);
    if (!file) return file.error();
    file_ = std::move(*file);
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
    while (loaded_.size() > in_memory_) {
      if (hand_ >= loaded_.size()) hand_ = 0;
      Slot& slot = slots_[loaded_[hand_]];
      if (slot.referenced) {
        slot.referenced = false;
        ++hand_;
        continue;
      }
      if (auto written = file_->Write(slot.where, encode_(*slot.record)); !written) return written;
      slot.record.reset();
      ++stats_.written;
      loaded_[hand_] = loaded_.back();  // the hand now points at one it has not seen
      loaded_.pop_back();
    }
    stats_.file_bytes = file_->file_bytes();
    return {};
  }
  // Calls `visit` with every record in index order, reading the written ones back without
  // keeping them.
  StoreResult<void> ForEach(const std::function<void(const T&)>& visit) {
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
  };
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
};

}  // namespace caseledger::eventstore
