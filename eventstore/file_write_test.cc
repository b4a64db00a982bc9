// The one place files are written whole (file_write.h): faults come through its
// FileSystem seam, the way leveldb's tests use an Env.
#include "eventstore/file_write.h"

#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace caseledger::eventstore {
namespace {

using caseledger::testing::TempDir;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

size_t FilesIn(const std::string& dir) {
  return static_cast<size_t>(std::distance(std::filesystem::directory_iterator(dir), {}));
}

// The real calls, with a fault chosen by the test.
class FaultyFs final : public FileSystem {
 public:
  size_t max_write = SIZE_MAX;  // a write moves at most this many bytes (short writes)
  int interrupted_writes = 0;   // so many writes fail with EINTR first
  size_t space = SIZE_MAX;      // bytes writable before ENOSPC
  bool fail_sync = false;
  int writes = 0;

  int CreateTemp(std::string& pattern, mode_t mode) override { return real_->CreateTemp(pattern, mode); }
  ssize_t Write(int fd, const char* data, size_t size) override {
    ++writes;
    if (interrupted_writes > 0) {
      --interrupted_writes;
      errno = EINTR;
      return -1;
    }
    size = std::min({size, max_write, space});
    if (size == 0) {
      errno = ENOSPC;
      return -1;
    }
    ssize_t n = real_->Write(fd, data, size);
    if (n > 0) space -= static_cast<size_t>(n);
    return n;
  }
  int Sync(int fd) override {
    if (fail_sync) {
      errno = EIO;
      return -1;
    }
    return real_->Sync(fd);
  }
  int Close(int fd) override { return real_->Close(fd); }
  int Rename(const std::string& a, const std::string& b) override { return real_->Rename(a, b); }
  int Link(const std::string& a, const std::string& b) override { return real_->Link(a, b); }
  int Unlink(const std::string& p) override { return real_->Unlink(p); }
  int SyncDir(const std::string& d) override { return real_->SyncDir(d); }

 private:
  FileSystem* real_ = FileSystem::Default();
};

TEST(FileWriteTest, ShortAndInterruptedWritesAreRetriedToTheLastByte) {
  TempDir dir;
  FaultyFs fs;
  fs.max_write = 3;
  fs.interrupted_writes = 2;
  const std::string bytes = "views-r000000000123 123\n";
  FileWriteOptions o;
  o.fs = &fs;
  auto r = WriteFileAtomically(dir.Sub("views.live"), bytes, o);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(*r);
  EXPECT_EQ(Slurp(dir.Sub("views.live")), bytes);
  EXPECT_GE(fs.writes, 2 + 8);
  EXPECT_EQ(FilesIn(dir.path()), 1u) << "a temporary file was left behind";
}

TEST(FileWriteTest, AFullDiskLeavesTheOldFileWholeAndIsReportedAsNoSpace) {
  TempDir dir;
  ASSERT_TRUE(WriteFileAtomically(dir.Sub("f"), "old contents\n"));
  FaultyFs fs;
  fs.space = 5;
  FileWriteOptions o;
  o.fs = &fs;
  auto r = WriteFileAtomically(dir.Sub("f"), "new contents, longer\n", o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, StoreErrorCode::kNoSpace) << r.error().message;
  EXPECT_EQ(Slurp(dir.Sub("f")), "old contents\n");
  EXPECT_EQ(FilesIn(dir.path()), 1u);
}

TEST(FileWriteTest, AFailedSyncNeverReplacesTheFile) {
  TempDir dir;
  ASSERT_TRUE(WriteFileAtomically(dir.Sub("f"), "old\n"));
  FaultyFs fs;
  fs.fail_sync = true;
  FileWriteOptions o;
  o.fs = &fs;
  auto r = WriteFileAtomically(dir.Sub("f"), "new\n", o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, StoreErrorCode::kIo);
  EXPECT_NE(r.error().message.find("sync"), std::string::npos) << r.error().message;
  EXPECT_EQ(Slurp(dir.Sub("f")), "old\n");
  EXPECT_EQ(FilesIn(dir.path()), 1u);
}

TEST(FileWriteTest, CreateOnlyKeepsAnExistingFileAndItsMode) {
  TempDir dir;
  FileWriteOptions o;
  o.placement = FileWriteOptions::Placement::kCreateOnly;
  o.mode = 0600;
  auto first = WriteFileAtomically(dir.Sub("key"), "first key", o);
  ASSERT_TRUE(first);
  EXPECT_TRUE(*first);
  auto second = WriteFileAtomically(dir.Sub("key"), "second key", o);
  ASSERT_TRUE(second);
  EXPECT_FALSE(*second);
  EXPECT_EQ(Slurp(dir.Sub("key")), "first key");
  struct stat st {};
  ASSERT_EQ(::stat(dir.Sub("key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(FilesIn(dir.path()), 1u);
}

TEST(FileWriteTest, AMissingDirectoryIsAnErrorNotACrash) {
  TempDir dir;
  auto r = WriteFileAtomically(dir.Sub("no/such/dir/f"), "x");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, StoreErrorCode::kIo);
}

}  // namespace
}  // namespace caseledger::eventstore
