// A stream's head as an append finds it outside the unsynced groups: the heads the group
// commit wrote lately (WrittenHeads), else the database. For a request that takes its stream
// to be new, read before write_mu_ (PreLoadHead); Prepare (group_commit.cc) checks that no
// head reached the database since.
#include "eventstore/rocks_event_store.h"

#include "eventstore/append_checks.h"

namespace caseledger::eventstore {

StoreResult<format::Head> RocksEventStore::LoadHead(const std::string& stream) const {
  if (auto written = written_heads_.Find(stream)) return *written;
  const uint64_t generation = written_heads_.Generation(stream);
  auto v = Get(heads_, stream);
  if (!v) return v.error();
  if (!*v) return format::Head{};  // not kept: ids probed for nothing would fill the table
  auto head = format::DecodeHead(**v);
  if (!head) return StoreError{StoreErrorCode::kCorruption, "bad stream head for " + stream};
  written_heads_.Fill(stream, *head, generation);
  return *head;
}

void RocksEventStore::PreLoadHead(const AppendRequest& r, PreLoadedHead& out) const {
  // Only where the read is likely to reach the database: a new stream's head is never kept
  // in WrittenHeads, and a stream with events is usually found in an unsynced group (its
  // appender's last append) or in WrittenHeads, a hash look-up either way.
  using Kind = ExpectedVersion::Kind;
  const bool expects_new = r.expected.kind == Kind::kNoStream ||
                           (r.expected.kind == Kind::kExact && r.expected.version == 0);
  if (!expects_new || CheckStreamName(r.stream)) return;
  // Before the read: a head that reaches the database during it moves the counter, and
  // Prepare reads again (acquire: a move seen here has its write visible to the read).
  out.heads_written = heads_written_.load(std::memory_order_acquire);
  auto head = LoadHead(r.stream);
  if (!head) return;  // Prepare reads again and answers the error
  out.head = *head;
  out.ready = true;
}

}  // namespace caseledger::eventstore
