// The control socket's backup request (control_socket.h): `backup DEST`, answered with a
// JSON line by the running server and read back by `caseledger backup`.
#pragma once

#include "eventstore/backup.h"

#include <string>

namespace caseledger::eventstore {
class AccessLog;
}

namespace caseledger::api {

// Answers one control request against the open databases: `backup DEST` (an absolute
// path) runs eventstore::BackupDataDir. Callers serialize requests.
std::string AnswerControlRequest(eventstore::EventStore& store, eventstore::AccessLog* access,
                                 const std::string& data_dir, const std::string& request);

// The report an answer carries, or its error (kIo when the answer does not parse).
eventstore::StoreResult<eventstore::BackupReport> ParseBackupAnswer(const std::string& answer);

}  // namespace caseledger::api
