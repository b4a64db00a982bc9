// RocksDB's own diagnostic log, sent to the "eventstore" spdlog logger instead of a LOG
// file in each database directory. The LOG file lives on the data volume: on a full disk
// its writer fails, and Debian's RocksDB aborts the process on the next line written to it
// (WritableFileWriter's assertion after a failed write) — the SIGABRT of issue #17. Every
// database of the project (store, access log, views) sets DBOptions::info_log to this.
#pragma once

#include <memory>
#include <string>

namespace rocksdb {
class Logger;
}

namespace caseledger::eventstore {

// One shared logger: RocksDB's info lines at debug, warnings and errors as such.
std::shared_ptr<rocksdb::Logger> RocksInfoLog();

// Creates a database's directory (and its parents) if missing, before DB::Open. RocksDB
// lists the directory's files for its info log while constructing the database, before
// create_if_missing makes the directory, and logs a missing one as an error ("Error when
// reading ... dir NotFound") at every first start. A failure is left to DB::Open to report.
void CreateDatabaseDirectory(const std::string& path);

}  // namespace caseledger::eventstore
