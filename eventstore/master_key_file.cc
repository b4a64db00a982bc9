// The master key file: 32 raw random bytes, mode 0600, created atomically on first start.
#include "eventstore/personal_vault.h"

#include "eventstore/store_logger.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace caseledger::eventstore {
namespace {

constexpr size_t kMasterKeyBytes = 32;

std::string Errno(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

std::optional<std::string> Fail(std::string* error, std::string message) {
  if (error) *error = std::move(message);
  return std::nullopt;
}

std::optional<std::string> ReadKey(const std::string& path, std::string* error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  struct stat st {};
  if (fd < 0) return Fail(error, Errno("cannot open master key file", path));
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Fail(error, "master key file " + path + " is not a regular file");
  }
  std::string key(kMasterKeyBytes + 1, '\0');
  size_t got = 0;
  while (got < key.size()) {
    ssize_t n = ::read(fd, key.data() + got, key.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  if (got != kMasterKeyBytes) {
    sodium_memzero(key.data(), key.size());
    return Fail(error, "master key file " + path + " must hold exactly 32 bytes");
  }
  key.resize(kMasterKeyBytes);
  if ((st.st_mode & 077) != 0) {
    StoreLog()->warn("master key file {} is accessible to group or others (mode {:o}); chmod 600 it",
                     path, st.st_mode & 0777);
  }
  return key;
}

}  // namespace

std::optional<std::string> LoadMasterKeyFile(const std::string& path, bool may_create,
                                             std::string* error) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 || errno != ENOENT || !may_create) return ReadKey(path, error);

  // Written aside and linked into place: link() fails on an existing name, so a racing
  // creator's key wins whole and nobody ever reads a half-written file.
  std::string temp = path + ".tmp-XXXXXX";
  int fd = ::mkostemp(temp.data(), O_CLOEXEC);  // mode 0600
  if (fd < 0) return Fail(error, Errno("cannot create master key file", path));
  unsigned char key[kMasterKeyBytes];
  randombytes_buf(key, sizeof key);
  bool ok = ::fchmod(fd, 0600) == 0;
  size_t done = 0;
  while (ok && done < sizeof key) {
    ssize_t n = ::write(fd, key + done, sizeof key - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (n > 0) done += static_cast<size_t>(n);
  }
  sodium_memzero(key, sizeof key);
  ok = ok && ::fsync(fd) == 0;
  if (::close(fd) != 0) ok = false;
  std::string why = ok ? "" : Errno("cannot write master key file", temp);
  int linked = ok ? ::link(temp.c_str(), path.c_str()) : -1;
  if (ok && linked != 0 && errno != EEXIST) {
    why = Errno("cannot create master key file", path);
    ok = false;
  }
  ::unlink(temp.c_str());
  if (!ok) return Fail(error, why);
  if (linked == 0) {
    std::string dir = std::filesystem::path(path).parent_path().string();
    int dir_fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
      ::fsync(dir_fd);  // the name survives a crash
      ::close(dir_fd);
    }
    StoreLog()->info("created master key file {}", path);
  }
  return ReadKey(path, error);
}

}  // namespace caseledger::eventstore
