// A small data volume for the tests of a full disk: a tmpfs mounted on a fresh directory.
// Needs CAP_SYS_ADMIN for mount(2) (root in CI and on the dev machines); without it the
// tests that use it fail, they do not skip.
#pragma once

#include "eventstore/disk_space.h"
#include "tests/support/temp_dir.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

namespace caseledger::testing {

// A tmpfs of `megabytes` mounted on a fresh directory, unmounted (lazily) at scope exit.
class SmallVolume {
 public:
  explicit SmallVolume(int megabytes) : path_(dir_.Sub("volume")) {
    std::filesystem::create_directory(path_);
    const std::string opts = "size=" + std::to_string(megabytes) + "m";
    if (::mount("tmpfs", path_.c_str(), "tmpfs", 0, opts.c_str()) != 0) {
      error_ = std::string("cannot mount a tmpfs on ") + path_ + ": " + std::strerror(errno) +
               " (the disk-full tests need root / CAP_SYS_ADMIN; they do not skip)";
      return;
    }
    mounted_ = true;
  }
  ~SmallVolume() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

  // Fills the volume with `name` until ENOSPC, then gives back `leave` bytes.
  void FillLeaving(const std::string& name, uint64_t leave) {
    int fd = ::open(Sub(name).c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0) << std::strerror(errno);
    std::vector<char> chunk(1 << 20, 'x');
    for (;;) {
      ssize_t n = ::write(fd, chunk.data(), chunk.size());
      if (n > 0) continue;
      ASSERT_EQ(errno, ENOSPC) << std::strerror(errno);
      if (chunk.size() == 4096) break;
      chunk.resize(chunk.size() / 2);
    }
    off_t size = ::lseek(fd, 0, SEEK_END);
    ASSERT_EQ(::ftruncate(fd, size > static_cast<off_t>(leave) ? size - static_cast<off_t>(leave) : 0), 0);
    ::close(fd);
  }
  void Remove(const std::string& name) { std::filesystem::remove(Sub(name)); }
  uint64_t Available() const { return *eventstore::AvailableBytes(path_); }

 private:
  TempDir dir_;
  std::string path_;
  bool mounted_ = false;
  std::string error_;
};

}  // namespace caseledger::testing
