#include "eventstore/spill_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace caseledger::eventstore {
namespace {

constexpr uint64_t kSmallestSlot = 64;

uint8_t SizeClass(size_t bytes) {
  uint8_t c = 0;
  while ((kSmallestSlot << c) < bytes) ++c;
  return c;
}

StoreError IoError(const std::string& what, const std::string& path) {
  return StoreError{errno == ENOSPC ? StoreErrorCode::kNoSpace : StoreErrorCode::kIo,
                    "spill file " + path + ": " + what + ": " + std::strerror(errno)};
}

}  // namespace

StoreResult<std::unique_ptr<SpillFile>> SpillFile::Create(std::string path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return IoError("cannot create", path);
  return std::unique_ptr<SpillFile>(new SpillFile(std::move(path), fd));
}

SpillFile::~SpillFile() {
  ::close(fd_);
  ::unlink(path_.c_str());
}

StoreResult<void> SpillFile::Write(Slot& slot, std::string_view bytes) {
  if (bytes.size() > UINT32_MAX) return StoreError{StoreErrorCode::kInvalidArgument, "spill record over 4 GiB"};
  const uint8_t size_class = SizeClass(bytes.size());
  if (slot.size == 0 || size_class != slot.size_class) {
    if (slot.size != 0) free_[slot.size_class].push_back(slot.offset);
    if (free_.size() <= size_class) free_.resize(size_class + 1);
    if (!free_[size_class].empty()) {
      slot.offset = free_[size_class].back();
      free_[size_class].pop_back();
    } else {
      slot.offset = file_end_;
      file_end_ += kSmallestSlot << size_class;
    }
    slot.size_class = size_class;
  }
  slot.size = static_cast<uint32_t>(bytes.size());
  for (size_t done = 0; done < bytes.size();) {
    const ssize_t n = ::pwrite(fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(slot.offset + done));
    if (n <= 0) return IoError("write", path_);
    done += static_cast<size_t>(n);
  }
  return {};
}

StoreResult<void> SpillFile::Read(const Slot& slot, std::string& out) const {
  out.resize(slot.size);
  for (size_t done = 0; done < out.size();) {
    const ssize_t n = ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(slot.offset + done));
    if (n <= 0) {
      if (n == 0) errno = EIO;  // the file is shorter than what was written to it
      return IoError("read", path_);
    }
    done += static_cast<size_t>(n);
  }
  return {};
}

}  // namespace caseledger::eventstore
