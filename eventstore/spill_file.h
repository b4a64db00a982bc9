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

}  // namespace caseledger::eventstore
