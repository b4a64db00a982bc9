// The access log (docs/security.md): who read whose personal data, when, through which endpoint and
// with what outcome. A RocksDB database of its own (not the event log: reads must not take
// positions in the registry's history), hash-chained like the event log so that an auditor
// can prove no record was removed or changed, and indexed by person for the access report.
//
// Records are queued by Record() without I/O (and without waking anyone), each thread's in a
// queue of its own, and written by a background thread, merged by instant, in one synced
// WriteBatch every `flush_interval` (or at once on Flush()),
// so a record is durable within `flush_interval` plus one sync. A record that cannot be
// written yet (no space, see WriteRefusal) stays queued and is written once it can. A
// write's records are stored as entries of up to 1,024 records (one key, one link of the
// chain each; eventstore/FORMAT.md, format 3). Records older than the retention are pruned,
// an entry once all its records are (they lie within a second of each other); the chain
// then starts from an anchor (the sequence number of the last pruned record and the hash of
// its entry), kept in the same write.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include "eventstore/event_store.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace caseledger::eventstore {

struct AccessRecord {
  domain::Timestamp at;
  std::string subject;    // token subject
  std::string role;       // role the read was allowed (or attempted) in
  std::string person_id;  // pseudonymous id of the person read
  std::string endpoint;   // "GET /v1/people/{id}/history"
  int status = 0;         // HTTP status of the answer (200, 304, 404, ...)
  bool operator==(const AccessRecord&) const = default;
};

// A record's fields where its caller holds them: Record() copies them (encoded) into its
// queue, so a read's record costs no allocation of its own.
struct AccessRecordView {
  AccessRecordView(domain::Timestamp at, std::string_view subject, std::string_view role, std::string_view person_id,
                   std::string_view endpoint, int status)
      : at(at), subject(subject), role(role), person_id(person_id), endpoint(endpoint), status(status) {}
  AccessRecordView(const AccessRecord& r)  // implicit: a record is its own view
      : AccessRecordView(r.at, r.subject, r.role, r.person_id, r.endpoint, r.status) {}
  domain::Timestamp at;
  std::string_view subject, role, person_id, endpoint;
  int status = 0;
};

struct StoredAccessRecord {
  uint64_t sequence = 0;  // 1, 2, ... across the whole access log
  AccessRecord record;
};

struct AccessLogOptions {
  std::string path;
  std::chrono::milliseconds flush_interval{200};
  // Records older than this many days are pruned (default: 24 months).
  int retention_days = 731;
  std::function<domain::Timestamp()> clock;  // null: the system clock
  // The free-space floor (disk_space.h): below it the writer holds its records and writes
  // nothing, and WriteRefusal() says so, until space is back. 0: no floor.
  uint64_t min_free_bytes = 0;
};

class AccessLog {
 public:
  static StoreResult<std::unique_ptr<AccessLog>> Open(const AccessLogOptions& options);
  // Flushes what is queued, then stops the writer.
  ~AccessLog();

  // Queues a record (a copy of its fields); never blocks on I/O.
  void Record(const AccessRecordView& record);
  // Returns once every record queued before the call is durable, or with the reason it
  // cannot be now (WriteRefusal()).
  StoreResult<void> Flush();
  // Why records cannot be written now, or nullopt: kNoSpace below the floor (lifts once
  // space is freed; the records wait in memory), or the sticky error of a failed write
  // (only a restart writes again). A read of personal data is refused while this is set:
  // it is never served unrecorded. Thread-safe.
  std::optional<StoreError> WriteRefusal() const;

  // A person's records, oldest first, with sequence > after, at most max_count.
  StoreResult<std::vector<StoredAccessRecord>> ForPerson(const std::string& person_id, uint64_t after,
                                                         size_t max_count) const;
  // Walks the chain from the anchor; returns the first sequence whose entry's hash does not
  // follow (the entry's first record; 0: intact) and the number of records checked.
  struct ChainReport {
    uint64_t first_bad_sequence = 0;
    uint64_t records = 0;
  };
  StoreResult<ChainReport> VerifyChain() const;
  // Removes records recorded before now - retention (and their index entries). Called by
  // the writer once an hour; public for tests.
  StoreResult<uint64_t> Prune();
  uint64_t LastSequence() const;
  // Adds a backup of the access log to the BackupEngine directory `dir` (backup.h): the
  // records durable before the call; returns the last sequence it holds for sure.
  StoreResult<uint64_t> BackupTo(const std::string& dir);
  // Records queued but not yet written (nor failed): the writer's backlog. Thread-safe.
  uint64_t Pending() const;

 private:
  struct Impl;
  explicit AccessLog(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace caseledger::eventstore
