// The master key file: 32 raw random bytes, mode 0600, created atomically on first start.
#include "eventstore/personal_vault.h"

#include "eventstore/file_write.h"
#include "eventstore/store_logger.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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

  // Created only if still missing: a racing creator's key wins whole and nobody ever
  // reads a half-written file.
  std::string key(kMasterKeyBytes, '\0');
  randombytes_buf(key.data(), key.size());
  FileWriteOptions placed;
  placed.placement = FileWriteOptions::Placement::kCreateOnly;
  placed.mode = 0600;
  auto written = WriteFileAtomically(path, key, placed);
  sodium_memzero(key.data(), key.size());
  if (!written) return Fail(error, "cannot create master key file: " + written.error().message);
  if (*written) StoreLog()->info("created master key file {}", path);
  return ReadKey(path, error);
}

}  // namespace caseledger::eventstore
