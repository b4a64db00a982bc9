// Warm standby (docs/standby.md): a second node that keeps a full copy of the primary's
// store — every RocksDB write batch of its write-ahead log, byte for byte: log records with
// their sealed personal parts, the stream index, heads, claims, idempotency records and key
// seeds — received through a JetStream stream of its own (CASELEDGER_STANDBY, subject
// caseledger.standby.>), and that `caseledger promote` turns into the primary.
//
// - The shipper (on the primary) reads its write-ahead log from the sequence after the
//   stream's last message (RocksDB GetUpdatesSince; retired WAL files are kept until
//   shipped, StoreOptions::wal_archive_seconds) and publishes frames: whole write batches,
//   the primary's epoch and committed position, and a MAC under a key derived from the
//   master key, which both nodes hold and NATS never sees. Every publish expects the
//   stream's last sequence, so frames are stored in order without gaps.
// - The follower (on the standby) fetches the frames in stream order, checks the MAC, and
//   appends them through EventStore::ApplyShipped, which checks sequence continuity and the
//   hash chain of every record; the first frame that fails stops it where it is (nothing of
//   that frame is written): a tampered, forged or forked message is refused.
// - The stream carries what the store's files carry: personal fields only sealed (the
//   seeds of their keys open nothing without the master key), so no personal data in clear.
#pragma once

#include "eventstore/event_store.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace caseledger::eventstore {

struct StandbyStreamOptions {
  std::vector<std::string> urls;  // nats://host:port
  std::string stream = "CASELEDGER_STANDBY";
  std::string subject = "caseledger.standby";  // frames on <subject>.log, fences on <subject>.fence
  int replicas = 1;                            // when the shipper creates the stream
  // The stream drops frames older than this: a standby further behind is seeded again.
  std::chrono::seconds max_age{7 * 24 * 3600};
  std::chrono::milliseconds api_wait{5000};
  std::chrono::milliseconds max_backoff{5000};
};

struct StandbyShipOptions : StandbyStreamOptions {
  // A frame is at most this big; a larger write batch goes in parts (also bounded by the
  // server's max_payload).
  size_t max_frame_bytes = 512 << 10;
  // Retired WAL files already shipped are deleted this often.
  std::chrono::milliseconds release_every{10000};
};

struct StandbyShipStatus {
  uint64_t shipped_position = 0;  // every log position up to here is in the stream
  uint64_t next_sequence = 0;     // the primary's next WAL sequence to ship
  uint64_t frames = 0;            // frames published since start
  bool connected = false;
  uint64_t fenced_by = 0;         // a standby was promoted over this primary at this epoch
  std::string failure;            // why it is not shipping now
};

// The primary's shipper: a thread that follows the store's commits.
class StandbyShipper {
 public:
  static std::unique_ptr<StandbyShipper> Start(EventStore& store, StandbyShipOptions options);
  ~StandbyShipper();
  void Stop();
  StandbyShipStatus Status() const;
  uint64_t Lag() const;  // committed positions not yet in the stream
  // Waits until `position` is in the stream (acknowledged by JetStream); false on timeout.
  bool WaitShipped(uint64_t position, std::chrono::milliseconds timeout) const;

  class Impl;

 private:
  StandbyShipper() = default;
  std::unique_ptr<Impl> impl_;
};

struct StandbyFollowOptions : StandbyStreamOptions {
  std::string durable = "caseledger-standby";  // the pull consumer's name
  int fetch_batch = 256;
  // Called on the follower's thread after each apply that moved the log.
  std::function<void(const StandbyApplied&)> on_applied;
};

struct StandbyFollowStatus {
  uint64_t position = 0;          // the standby's committed position
  uint64_t primary_position = 0;  // the primary's committed position in the newest frame seen
  uint64_t pending_messages = 0;  // stream messages after the last one fetched
  uint64_t applied_sequence = 0;  // the primary's WAL sequence applied up to
  uint64_t frames = 0;            // frames applied since start
  uint64_t refused = 0;           // frames refused (tampered, forged, a gap or a fork)
  int64_t last_frame_age_ms = -1; // now - the publish time of the last frame applied
  bool connected = false;
  bool stopped = false;           // refused a frame or saw a fence: follows no more
  std::string failure;
};

// The standby's follower.
class StandbyFollower {
 public:
  static std::unique_ptr<StandbyFollower> Start(EventStore& store, StandbyFollowOptions options);
  ~StandbyFollower();
  // Stops fetching once the frame being applied is written.
  void Stop();
  // Applies what the stream still holds (until a fetch finds nothing more, at most
  // `timeout`), then stops: promotion calls it first, so that every frame the stream got
  // before the primary died is in the promoted log.
  void Drain(std::chrono::milliseconds timeout);
  StandbyFollowStatus Status() const;

  class Impl;

 private:
  StandbyFollower() = default;
  std::unique_ptr<Impl> impl_;
};

// After a promotion: publishes a fence (the new epoch, MAC'd) into the standby stream, so
// that the old primary's shipper, whose next publish fails on it, fences its store
// (EventStore::Fence) and refuses appends. Best effort within `timeout`: false with `why`
// when NATS could not be reached (docs/standby.md says what that leaves open).
bool PublishFence(const EventStore& store, const StandbyStreamOptions& options, uint64_t epoch,
                  std::chrono::milliseconds timeout, std::string* why);

}  // namespace caseledger::eventstore
