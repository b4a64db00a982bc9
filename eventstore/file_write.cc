// The order of the steps is what makes the write atomic and durable: data synced before
// the name moves (else a crash can leave the new name on an empty file), the directory
// synced after (else a crash can bring the old name back).
#include "eventstore/file_write.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace caseledger::eventstore {
namespace {

class PosixFileSystem final : public FileSystem {
 public:
  int CreateTemp(std::string& pattern, mode_t mode) override {
    int fd = ::mkostemp(pattern.data(), O_CLOEXEC);  // created 0600
    if (fd >= 0 && ::fchmod(fd, mode) != 0) {
      int saved = errno;
      ::close(fd);
      ::unlink(pattern.c_str());
      errno = saved;
      return -1;
    }
    return fd;
  }
  ssize_t Write(int fd, const char* data, size_t size) override { return ::write(fd, data, size); }
  int Sync(int fd) override { return ::fsync(fd); }
  int Close(int fd) override { return ::close(fd); }
  int Rename(const std::string& from, const std::string& to) override { return ::rename(from.c_str(), to.c_str()); }
  int Link(const std::string& from, const std::string& to) override { return ::link(from.c_str(), to.c_str()); }
  int Unlink(const std::string& path) override { return ::unlink(path.c_str()); }
  int SyncDir(const std::string& dir) override {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int r = ::fsync(fd);
    int saved = errno;
    ::close(fd);
    errno = saved;
    return r;
  }
};

StoreError Failed(const std::string& step, const std::string& path, int err) {
  return StoreError(err == ENOSPC || err == EDQUOT ? StoreErrorCode::kNoSpace : StoreErrorCode::kIo,
                    step + " " + path + ": " + std::strerror(err));
}

}  // namespace

FileSystem* FileSystem::Default() {
  static PosixFileSystem fs;
  return &fs;
}

StoreResult<bool> WriteFileAtomically(const std::string& path, std::string_view bytes,
                                      const FileWriteOptions& options) {
  FileSystem& fs = options.fs ? *options.fs : *FileSystem::Default();
  std::string temp = path + ".tmp-XXXXXX";
  int fd = fs.CreateTemp(temp, options.mode);
  if (fd < 0) return Failed("cannot create a file beside", path, errno);
  int err = 0;
  const char* step = "";
  for (size_t done = 0; done < bytes.size();) {
    ssize_t n = fs.Write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {  // 0 for a non-empty write: nothing will move; report it as the disk full
      err = n < 0 ? errno : ENOSPC;
      step = "cannot write";
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (err == 0 && fs.Sync(fd) != 0) {
    err = errno;
    step = "cannot sync";
  }
  if (fs.Close(fd) != 0 && err == 0) {
    err = errno;
    step = "cannot close";
  }
  bool placed = false;
  if (err == 0) {
    if (options.placement == FileWriteOptions::Placement::kReplace) {
      if (fs.Rename(temp, path) == 0) {
        placed = true;
      } else {
        err = errno;
        step = "cannot rename onto";
      }
    } else if (fs.Link(temp, path) == 0) {
      placed = true;
    } else if (errno != EEXIST) {
      err = errno;
      step = "cannot link";
    }
  }
  // After a rename the temporary name is gone; after a link (or a failure) it is removed.
  if (!(placed && options.placement == FileWriteOptions::Placement::kReplace)) fs.Unlink(temp);
  if (err != 0) return Failed(step, path, err);
  if (!placed) return false;  // kCreateOnly and the name was taken
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (fs.SyncDir(dir.empty() ? "." : dir) != 0) return Failed("cannot sync the directory of", path, errno);
  return true;
}

}  // namespace caseledger::eventstore
