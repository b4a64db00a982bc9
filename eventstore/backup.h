// Online backups of a data directory, their checks and their restore, with the log cut at a
// position or an instant (docs/operations.md, "Backup and restore"). A backup directory:
//
//   DEST/store/        RocksDB BackupEngine of the event log (the log, stream index, heads,
//                      claims, idempotency keys, wrapped personal-data keys, checkpoints);
//                      each backup records the chain tip it holds for sure ("position hash")
//   DEST/access/       BackupEngine of the access log
//   DEST/schools.csv   a copy, when the data directory has one
//
// Backups are incremental: a file an earlier backup already holds is not copied again
// (BackupEngine's shared, checksummed files). Not in a backup: the master key (a separate
// secret: without it the personal parts stay sealed), the auth key (a new one is made) and
// the views (rebuilt from the log).
#pragma once

#include "eventstore/event_store.h"

#include <cstdint>
#include <optional>
#include <string>

namespace caseledger::eventstore {

class AccessLog;

struct BackupReport {
  uint32_t backup_id = 0;
  ChainTip tip;                  // every append acknowledged before the backup began is at or below it
  uint64_t access_sequence = 0;  // access records held
  uint64_t bytes_total = 0;      // of the backup directory afterwards
  uint64_t bytes_added = 0;      // written by this backup (an unchanged store adds little)
};

// Backs up the open store, the access log (may be null) and DATA/schools.csv into `dest`,
// while the server goes on serving. One at a time per `dest` (callers serialize).
StoreResult<BackupReport> BackupDataDir(EventStore& store, AccessLog* access, const std::string& data_dir,
                                        const std::string& dest);

struct RestoreOptions {
  std::string from;      // a backup directory
  std::string data_dir;  // must not hold a store yet
  // Point in time: the log is cut after this position, or after the last event recorded at
  // or before this instant; nullopt: the whole backup.
  std::optional<uint64_t> to_position;
  std::optional<Timestamp> to_time;
};

struct RestoreReport {
  uint32_t backup_id = 0;
  ChainTip backup_tip;     // what the backup says it holds
  ChainTip tip;            // the restored log's tip, its chain verified from position 1
  uint64_t events_cut = 0; // past the point in time
  uint64_t access_records = 0;
};

// Restores the latest backup of `from` into `data_dir` (store, access log, schools.csv),
// cuts the log when asked, and walks the whole chain. kCorruption when the chain does not
// verify or the restored log does not hold the backup's tip; kInvalidArgument when
// `data_dir` already has a store or the point in time lies past the backup.
StoreResult<RestoreReport> RestoreDataDir(const RestoreOptions& options);

// Cuts the log of the closed store at `path` after `keep_through`: the events after it, their
// stream index entries and idempotency keys go; heads move back; streams left without events
// lose their claims and data keys. An erasure stays: a key destroyed after the cut is not
// brought back. Returns the number of events removed.
StoreResult<uint64_t> TruncateLog(const std::string& path, uint64_t keep_through);

struct BackupCheck {
  uint32_t backups = 0;          // each verified against its checksums
  uint32_t latest_id = 0;
  ChainTip latest_tip;           // from the latest backup's record
  uint64_t events_checked = 0;   // of the latest backup, restored aside and walked
  uint64_t access_records = 0;
  std::string problem;           // empty: all is intact
};

// Verifies every backup's files against their checksums, then restores the latest into
// `scratch` (removed afterwards) and walks its chain and the access log's.
StoreResult<BackupCheck> VerifyBackupDir(const std::string& dest, const std::string& scratch);

}  // namespace caseledger::eventstore
