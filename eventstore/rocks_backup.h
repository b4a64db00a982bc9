// Private to eventstore/: one BackupEngine backup of an open RocksDB database (backup.h).
#pragma once

#include "eventstore/event_store.h"

#include <string>

namespace rocksdb {
class DB;
}

namespace caseledger::eventstore {

// A store backup's metadata: this prefix, the tip's position, a space, its hash in hex.
inline constexpr char kBackupMetadataPrefix[] = "caseledger-backup-1 ";

// Adds a backup of `db` to the BackupEngine directory `dir` (created if missing), with the
// live WAL files (nothing is flushed: the writers are not held up), recording `metadata`.
// Files with the same name, size and checksum already in `dir` are shared, not copied.
StoreResult<uint32_t> CreateRocksBackup(rocksdb::DB& db, const std::string& dir, const std::string& metadata);

}  // namespace caseledger::eventstore
