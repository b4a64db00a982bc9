// Private to the views database's sources (views_db_open.cc): a database created for a
// catch-up from scratch (ViewsDb::Create) without RocksDB's synced files, and complete only
// once its first checkpoint is written (FORMAT.md, "created").
//
// A database that no checkpoint has ever completed is worth nothing: the next open would
// empty it and rebuild from the log anyway. So its creation need not survive a power loss
// either, only be recognised after one. Create makes `<path>/CREATING` first (the marker,
// empty, its directory synced: the one sync before the database is usable), then lets
// RocksDB create the database with every sync it asks for skipped (~10 synced files,
// 66-102 ms on a busy disk: as long as a short rebuild, docs/benchmarks.md, session 33).
// The first checkpoint's write (ViewsDb::Batch::Completes) then syncs what was skipped and
// removes the marker, on a thread of its own. An open that finds the marker (a crash or a
// power loss before that, whatever the files then hold) removes the directory
// (RemoveIfIncomplete) and creates the database again.
#pragma once

#include <rocksdb/file_system.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace caseledger::projections {

// The marker's name in the database's directory. RocksDB ignores files it does not name.
inline constexpr const char* kCreatingMarker = "CREATING";

// RocksDB's file system, but while Skipping, the syncs of files and directories are not
// done: the files written meanwhile are remembered (under the name a rename gave them) for
// SyncSkipped. Thread-safe.
class CreationFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  // `step` (tests): called after each file written, renamed or sync skipped while
  // Skipping, with what was done ("write CURRENT", ...), so that a test can copy the
  // directory as a crash there would leave it.
  explicit CreationFileSystem(std::function<void(const std::string&)> step = {});
  const char* Name() const override { return "CaseledgerCreationFileSystem"; }

  void Skip(bool on);
  bool skipping() const;
  // Syncs the data of every file written while Skipping that still exists, then `dir`
  // (their names). False if one cannot be synced.
  bool SyncSkipped(const std::string& dir);

  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                       std::unique_ptr<rocksdb::FSWritableFile>* r,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewDirectory(const std::string& name, const rocksdb::IOOptions& o,
                                 std::unique_ptr<rocksdb::FSDirectory>* r,
                                 rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus RenameFile(const std::string& s, const std::string& t,
                               const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override;

  // What a skipped sync calls (the files' and directories' wrappers).
  void Skipped(const std::string& what);

 private:
  void Written(const std::string& f, const char* how);
  // A writable file `s` opened: wrapped as a SkippingFile and remembered while Skipping.
  rocksdb::IOStatus Opened(rocksdb::IOStatus s, const std::string& f,
                           std::unique_ptr<rocksdb::FSWritableFile>* r, const char* how);

  std::function<void(const std::string&)> step_;
  mutable std::mutex mu_;
  bool skipping_ = false;             // guarded by mu_
  std::vector<std::string> written_;  // guarded by mu_
};

// Writes `<dir>/CREATING` and syncs `dir` (it must exist). False if either fails.
bool MarkCreating(const std::string& dir);
// Removes `<dir>/CREATING` and syncs `dir`: the database is complete.
bool UnmarkCreating(const std::string& dir);
// If `dir` holds the marker, removes `dir` with all it holds and returns true.
bool RemoveIfIncomplete(const std::string& dir);

}  // namespace caseledger::projections
