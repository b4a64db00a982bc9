#include "eventstore/rocks_backup.h"

#include "eventstore/rocks_status.h"

#include <rocksdb/db.h>
#include <rocksdb/utilities/backup_engine.h>

#include <memory>

namespace caseledger::eventstore {

StoreResult<uint32_t> CreateRocksBackup(rocksdb::DB& db, const std::string& dir, const std::string& metadata) {
  rocksdb::BackupEngineOptions options(dir);
  options.share_table_files = true;
  options.share_files_with_checksum = true;
  options.sync = true;
  rocksdb::BackupEngine* raw = nullptr;
  rocksdb::IOStatus s = rocksdb::BackupEngine::Open(options, rocksdb::Env::Default(), &raw);
  std::unique_ptr<rocksdb::BackupEngine> engine(raw);
  if (!s.ok()) return StoreError(StoreErrorCode::kIo, "open backup directory " + dir + ": " + s.ToString());
  rocksdb::CreateBackupOptions create;
  // The memtables go to table files first, which later backups share, so the private part
  // of each backup (the WAL since that flush, the manifest) stays small. Writers go on.
  create.flush_before_backup = true;
  rocksdb::BackupID id = 0;
  s = engine->CreateNewBackupWithMetadata(create, &db, metadata, &id);
  if (!s.ok()) {
    return StoreErrorFrom(s, "backup into " + dir);
  }
  return id;
}

}  // namespace caseledger::eventstore
