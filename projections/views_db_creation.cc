// A views database created without RocksDB's syncs (views_db_creation.h says why), and the
// marker that says it is not complete yet.
#include "projections/views_db_creation.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <system_error>
#include <utility>

namespace caseledger::projections {
namespace {

// A file written while the creation skips syncs. It asks at each sync, not once: RocksDB
// keeps writing some of these files after the creation (its MANIFEST, its WAL), and those
// later syncs are done.
class SkippingFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  SkippingFile(std::unique_ptr<rocksdb::FSWritableFile>&& t, CreationFileSystem& fs,
               std::string name)
      : FSWritableFileOwnerWrapper(std::move(t)), fs_(fs), name_(std::move(name)) {}
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    if (Skip()) return rocksdb::IOStatus::OK();
    return FSWritableFileOwnerWrapper::Sync(o, dbg);
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    if (Skip()) return rocksdb::IOStatus::OK();
    return FSWritableFileOwnerWrapper::Fsync(o, dbg);
  }
  rocksdb::IOStatus RangeSync(uint64_t offset, uint64_t n, const rocksdb::IOOptions& o,
                              rocksdb::IODebugContext* dbg) override {
    if (fs_.skipping()) return rocksdb::IOStatus::OK();
    return FSWritableFileOwnerWrapper::RangeSync(offset, n, o, dbg);
  }

 private:
  bool Skip() {
    if (!fs_.skipping()) return false;
    fs_.Skipped("sync " + name_);
    return true;
  }
  CreationFileSystem& fs_;
  std::string name_;
};

class SkippingDirectory final : public rocksdb::FSDirectoryWrapper {
 public:
  SkippingDirectory(std::unique_ptr<rocksdb::FSDirectory>&& t, CreationFileSystem& fs)
      : FSDirectoryWrapper(std::move(t)), fs_(fs) {}
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    if (Skip()) return rocksdb::IOStatus::OK();
    return FSDirectoryWrapper::Fsync(o, dbg);
  }
  rocksdb::IOStatus FsyncWithDirOptions(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg,
                                        const rocksdb::DirFsyncOptions& d) override {
    if (Skip()) return rocksdb::IOStatus::OK();
    return FSDirectoryWrapper::FsyncWithDirOptions(o, dbg, d);
  }

 private:
  bool Skip() {
    if (!fs_.skipping()) return false;
    fs_.Skipped("sync the directory");
    return true;
  }
  CreationFileSystem& fs_;
};

std::string Base(const std::string& path) {
  return std::filesystem::path(path).filename().string();
}

// fdatasync of `path` (fsync for a directory); a file gone since is not an error (RocksDB
// removed it: nothing of it is needed).
bool SyncPath(const std::string& path, bool directory) {
  const int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT;
  const bool ok = (directory ? ::fsync(fd) : ::fdatasync(fd)) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

CreationFileSystem::CreationFileSystem(std::function<void(const std::string&)> step)
    : FileSystemWrapper(rocksdb::FileSystem::Default()), step_(std::move(step)) {}

void CreationFileSystem::Skip(bool on) {
  std::lock_guard lock(mu_);
  skipping_ = on;
}

bool CreationFileSystem::skipping() const {
  std::lock_guard lock(mu_);
  return skipping_;
}

void CreationFileSystem::Skipped(const std::string& what) {
  if (step_) step_(what);
}

void CreationFileSystem::Written(const std::string& f, const char* how) {
  {
    std::lock_guard lock(mu_);
    if (std::find(written_.begin(), written_.end(), f) == written_.end()) written_.push_back(f);
  }
  if (step_) step_(std::string(how) + " " + Base(f));
}

rocksdb::IOStatus CreationFileSystem::NewWritableFile(const std::string& f,
                                                      const rocksdb::FileOptions& o,
                                                      std::unique_ptr<rocksdb::FSWritableFile>* r,
                                                      rocksdb::IODebugContext* dbg) {
  return Opened(FileSystemWrapper::NewWritableFile(f, o, r, dbg), f, r, "write");
}

rocksdb::IOStatus CreationFileSystem::ReopenWritableFile(
    const std::string& f, const rocksdb::FileOptions& o,
    std::unique_ptr<rocksdb::FSWritableFile>* r, rocksdb::IODebugContext* dbg) {
  return Opened(FileSystemWrapper::ReopenWritableFile(f, o, r, dbg), f, r, "reopen");
}

rocksdb::IOStatus CreationFileSystem::Opened(rocksdb::IOStatus s, const std::string& f,
                                             std::unique_ptr<rocksdb::FSWritableFile>* r, const char* how) {
  // Files opened after the creation are RocksDB's own, as they are: nothing to skip.
  if (!s.ok() || !skipping()) return s;
  *r = std::make_unique<SkippingFile>(std::move(*r), *this, Base(f));
  Written(f, how);
  return s;
}

rocksdb::IOStatus CreationFileSystem::NewDirectory(const std::string& name,
                                                   const rocksdb::IOOptions& o,
                                                   std::unique_ptr<rocksdb::FSDirectory>* r,
                                                   rocksdb::IODebugContext* dbg) {
  rocksdb::IOStatus s = FileSystemWrapper::NewDirectory(name, o, r, dbg);
  if (!s.ok() || !skipping()) return s;
  // RocksDB keeps its directory objects for the database's life: they ask at each sync.
  *r = std::make_unique<SkippingDirectory>(std::move(*r), *this);
  return s;
}

rocksdb::IOStatus CreationFileSystem::RenameFile(const std::string& s, const std::string& t,
                                                 const rocksdb::IOOptions& o,
                                                 rocksdb::IODebugContext* dbg) {
  rocksdb::IOStatus st = FileSystemWrapper::RenameFile(s, t, o, dbg);
  // CURRENT is written to a temporary file and renamed: its data is synced under its name.
  if (st.ok() && skipping()) Written(t, "rename to");
  return st;
}

bool CreationFileSystem::SyncSkipped(const std::string& dir) {
  std::vector<std::string> files;
  {
    std::lock_guard lock(mu_);
    files = written_;
  }
  bool ok = true;
  for (const std::string& f : files) ok = SyncPath(f, false) && ok;
  return SyncPath(dir, true) && ok;
}

bool MarkCreating(const std::string& dir) {
  const std::string marker = dir + "/" + kCreatingMarker;
  const int fd = ::open(marker.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  ::close(fd);
  // Empty: only its name needs to be durable, before any file of the database can be.
  return SyncPath(dir, true);
}

bool UnmarkCreating(const std::string& dir) {
  if (::unlink((dir + "/" + kCreatingMarker).c_str()) != 0 && errno != ENOENT) return false;
  return SyncPath(dir, true);
}

bool RemoveIfIncomplete(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(dir + "/" + kCreatingMarker, ec)) return false;
  std::filesystem::remove_all(dir, ec);
  return !ec;
}

}  // namespace caseledger::projections
