// Whole-file writes that survive a crash at any moment, in one place: the bytes go to a
// temporary file beside the target, are written in full (short writes and EINTR retried)
// and fsynced, the file then takes the target's name (rename over it, or link when the
// name must not exist yet) and the directory is fsynced so the name survives too. A crash
// leaves the old file or the new one, never a part. Used for the auth key, the master key
// and the views pointer; RocksDB's own files go through StoreOptions::env instead.
//
// The system calls go through a FileSystem (leveldb's Env, cut to what this needs), so
// tests inject short writes, ENOSPC and failed syncs (file_write_test.cc).
#pragma once

#include "eventstore/event_store.h"

#include <sys/types.h>

#include <string>
#include <string_view>

namespace caseledger::eventstore {

// The calls WriteFileAtomically makes; each returns 0 or -1 with errno set, as POSIX does.
// Implementations must be thread-safe.
class FileSystem {
 public:
  virtual ~FileSystem() = default;
  // mkstemp-like: creates a new file from `pattern` (ending in XXXXXX, replaced in place)
  // with `mode`; a descriptor or -1.
  virtual int CreateTemp(std::string& pattern, mode_t mode) = 0;
  // Bytes written (possibly fewer than asked) or -1.
  virtual ssize_t Write(int fd, const char* data, size_t size) = 0;
  virtual int Sync(int fd) = 0;
  virtual int Close(int fd) = 0;
  virtual int Rename(const std::string& from, const std::string& to) = 0;
  virtual int Link(const std::string& from, const std::string& to) = 0;
  virtual int Unlink(const std::string& path) = 0;
  virtual int SyncDir(const std::string& dir) = 0;

  // The real one (POSIX calls). Lives forever.
  static FileSystem* Default();
};

struct FileWriteOptions {
  enum class Placement {
    kReplace,     // the new bytes replace whatever the name held
    kCreateOnly,  // only if the name does not exist: a racing creator's file wins whole
  };
  Placement placement = Placement::kReplace;
  mode_t mode = 0644;
  FileSystem* fs = nullptr;  // null: FileSystem::Default()
};

// Writes `bytes` to `path` atomically and durably (see above). True when written; false
// when kCreateOnly found `path` already there (then left as it was). kIo (kNoSpace when
// the volume is full) with the failing step and path otherwise; no temporary file remains.
[[nodiscard]] StoreResult<bool> WriteFileAtomically(const std::string& path, std::string_view bytes,
                                                    const FileWriteOptions& options = {});

}  // namespace caseledger::eventstore
