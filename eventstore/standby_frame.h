// Private to eventstore/: the frames a primary ships to its standby (standby.h). Layout
// (integers big-endian), documented in FORMAT.md, "Warm standby":
//
//   u8 kind (1 batches, 2 fence, 4 seed) ‖ BE64 epoch ‖ BE64 primary committed position ‖
//   BE64 first sequence ‖ BE64 end sequence ‖ BE64 last position ‖
//   BE32 n ‖ n × (BE32 family id ‖ BE32 length ‖ name) ‖
//   BE32 m ‖ m × (BE32 length ‖ write batch) ‖ 32-byte MAC of everything before
//
// A frame larger than a message may hold travels in parts: u8 3 ‖ BE32 index ‖ BE32 count ‖
// bytes, the frame's bytes in order.
#pragma once

#include "eventstore/event_store.h"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace caseledger::eventstore {

enum class FrameKind : uint8_t { kBatches = 1, kFence = 2, kSeed = 4 };
inline constexpr uint8_t kFramePart = 3;
inline constexpr size_t kFrameMacSize = 32;

struct Frame {
  FrameKind kind = FrameKind::kBatches;
  ShippedBatches shipped;  // a fence carries only its epoch
};

using FrameMac = std::function<std::optional<std::string>(std::string_view)>;

// nullopt when `mac` gives none (no master key).
std::optional<std::string> EncodeFrame(const Frame& frame, const FrameMac& mac);
// nullopt with `why` when the bytes are malformed or the MAC is not the expected one.
std::optional<Frame> DecodeFrame(std::string_view bytes, const FrameMac& mac, std::string* why);

// The messages that carry `frame`: itself when it fits in `max_message` bytes, else parts.
std::vector<std::string> SplitFrame(const std::string& frame, size_t max_message);

// Puts parts back together, message by message in stream order.
class FrameAssembler {
 public:
  // A whole frame when `message` completes one (or is one), nullopt otherwise (`why` set
  // when the message is malformed or out of order; the assembler then starts over).
  std::optional<std::string> Add(std::string_view message, std::string* why);
  bool in_part() const { return expected_ > 0; }

 private:
  std::string bytes_;
  uint32_t next_ = 0, expected_ = 0;
};

}  // namespace caseledger::eventstore
