#include "eventstore/spill_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace caseledger::eventstore {
namespace {

StoreError IoError(const std::string& what, const std::string& path) {
  return StoreError{errno == ENOSPC ? StoreErrorCode::kNoSpace : StoreErrorCode::kIo,
                    "spill file " + path + ": " + what + ": " + std::strerror(errno)};
}

}  // namespace

StoreResult<std::unique_ptr<SpillFile>> SpillFile::Create(std::string path, uint64_t segment_bytes) {
  if (segment_bytes < 64 || segment_bytes > UINT32_MAX) {
    return StoreError{StoreErrorCode::kInvalidArgument, "spill file segment size out of range"};
  }
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return IoError("cannot create", path);
  return std::unique_ptr<SpillFile>(new SpillFile(std::move(path), fd, segment_bytes));
}

SpillFile::~SpillFile() {
  ::close(fd_);
  ::unlink(path_.c_str());
}

StoreResult<void> SpillFile::WriteOut(size_t bytes) {
  for (size_t done = 0; done < bytes;) {
    const ssize_t n = ::pwrite(fd_, buffer_.data() + done, bytes - done, static_cast<off_t>(buffer_offset_ + done));
    if (n <= 0) return IoError("write", path_);
    done += static_cast<size_t>(n);
  }
  buffer_.erase(0, bytes);
  buffer_offset_ += bytes;
  return {};
}

StoreResult<void> SpillFile::Place(uint32_t index, size_t start, Slot& slot) {
  const size_t size = buffer_.size() - start;
  if (size > segment_bytes_) {
    buffer_.resize(start);
    return StoreError{StoreErrorCode::kInvalidArgument,
                      "spill file " + path_ + ": a record of " + std::to_string(size) + " bytes, over the segment's " +
                          std::to_string(segment_bytes_)};
  }
  if (open_ == kNone || open_used_ + size > segment_bytes_) {
    // The bytes before this record fill the open segment: written now, and the record
    // begins the next segment.
    if (auto written = WriteOut(start); !written) {
      buffer_.resize(0);
      return written;
    }
    const uint32_t closed = open_;
    open_ = TakeSegment();
    open_used_ = 0;
    buffer_offset_ = static_cast<uint64_t>(open_) * segment_bytes_;
    start = 0;
    if (closed != kNone && segments_[closed].live == 0) FreeSegment(closed);
  }
  slot.offset = buffer_offset_ + start;
  slot.size = static_cast<uint32_t>(size);
  open_used_ += size;
  Segment& segment = segments_[open_];
  segment.live += size;
  segment.records.push_back(index);
  live_bytes_ += size;
  return {};
}

StoreResult<void> SpillFile::Append(uint32_t index, std::string_view bytes, Slot& slot) {
  const size_t start = buffer_.size();
  buffer_.append(bytes);
  return Place(index, start, slot);
}

StoreResult<void> SpillFile::Move(uint32_t index, Slot& slot) {
  const Slot old = slot;
  const size_t start = buffer_.size();
  buffer_.resize(start + old.size);
  if (auto read = ReadInto(old, buffer_.data() + start); !read) {
    buffer_.resize(start);
    return read;
  }
  if (auto placed = Place(index, start, slot); !placed) return placed;
  Release(old);
  return {};
}

StoreResult<void> SpillFile::Flush() { return WriteOut(buffer_.size()); }

void SpillFile::Release(const Slot& slot) {
  if (slot.size == 0) return;
  const auto s = static_cast<uint32_t>(slot.offset / segment_bytes_);
  Segment& segment = segments_[s];
  segment.live -= slot.size;
  live_bytes_ -= slot.size;
  if (segment.live == 0 && s != open_) FreeSegment(s);
}

uint32_t SpillFile::TakeSegment() {
  if (!free_.empty()) {
    const uint32_t s = free_.back();
    free_.pop_back();
    segments_[s].free = false;
    return s;
  }
  segments_.emplace_back();
  file_end_ = segments_.size() * segment_bytes_;
  return static_cast<uint32_t>(segments_.size() - 1);
}

void SpillFile::FreeSegment(uint32_t s) {
  Segment& segment = segments_[s];
  segment.free = true;
  std::vector<uint32_t>().swap(segment.records);
  free_.push_back(s);
}

std::vector<uint32_t> SpillFile::SparseSegments(size_t at_most) const {
  std::vector<uint32_t> picked;
  size_t in_use = segments_.size() - free_.size();
  const uint64_t slack = 2 * segment_bytes_;
  while (picked.size() < at_most && in_use * segment_bytes_ > 2 * live_bytes_ + slack) {
    uint32_t best = kNone;
    for (uint32_t s = 0; s < segments_.size(); ++s) {
      if (s == open_ || segments_[s].free) continue;
      if (std::find(picked.begin(), picked.end(), s) != picked.end()) continue;
      if (best == kNone || segments_[s].live < segments_[best].live) best = s;
    }
    if (best == kNone) break;
    picked.push_back(best);
    --in_use;
  }
  return picked;
}

StoreResult<void> SpillFile::ReadInto(const Slot& slot, char* out) const {
  for (size_t done = 0; done < slot.size;) {
    const ssize_t n = ::pread(fd_, out + done, slot.size - done, static_cast<off_t>(slot.offset + done));
    if (n <= 0) {
      if (n == 0) errno = EIO;  // the file is shorter than what was written to it
      return IoError("read", path_);
    }
    done += static_cast<size_t>(n);
  }
  return {};
}

StoreResult<void> SpillFile::Read(const Slot& slot, std::string& out) const {
  out.resize(slot.size);
  return ReadInto(slot, out.data());
}

}  // namespace caseledger::eventstore
