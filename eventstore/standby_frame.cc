#include "eventstore/standby_frame.h"

#include <sodium.h>

namespace caseledger::eventstore {
namespace {

void Put64(std::string& out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
}
void Put32(std::string& out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
}

// Bounds-checked reads; any overrun makes ok false.
struct Reader {
  std::string_view in;
  bool ok = true;
  uint64_t Int(int bytes) {
    if (in.size() < size_t(bytes)) {
      ok = false;
      return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<uint8_t>(in[i]);
    in.remove_prefix(bytes);
    return v;
  }
  std::string_view Bytes() {
    const uint64_t n = Int(4);
    if (!ok || in.size() < n) {
      ok = false;
      return {};
    }
    std::string_view out = in.substr(0, n);
    in.remove_prefix(n);
    return out;
  }
};

}  // namespace

std::optional<std::string> EncodeFrame(const Frame& frame, const FrameMac& mac) {
  const ShippedBatches& s = frame.shipped;
  std::string out;
  out.push_back(static_cast<char>(frame.kind));
  for (uint64_t v : {s.epoch, s.primary_committed, s.first_sequence, s.end_sequence, s.last_position}) Put64(out, v);
  Put32(out, uint32_t(s.families.size()));
  for (const auto& [id, name] : s.families) {
    Put32(out, id);
    Put32(out, uint32_t(name.size()));
    out += name;
  }
  Put32(out, uint32_t(s.batches.size()));
  for (const std::string& b : s.batches) {
    Put32(out, uint32_t(b.size()));
    out += b;
  }
  auto tag = mac(out);
  if (!tag || tag->size() != kFrameMacSize) return std::nullopt;
  return out + *tag;
}

std::optional<Frame> DecodeFrame(std::string_view bytes, const FrameMac& mac, std::string* why) {
  if (bytes.size() < 1 + 5 * 8 + 8 + kFrameMacSize) {
    *why = "a standby frame shorter than its header";
    return std::nullopt;
  }
  const std::string_view body = bytes.substr(0, bytes.size() - kFrameMacSize);
  const std::string_view tag = bytes.substr(body.size());
  auto expected = mac(body);
  if (!expected || expected->size() != tag.size() ||
      sodium_memcmp(expected->data(), tag.data(), tag.size()) != 0) {
    *why = "a standby frame whose MAC is not the primary's (altered, or not made with this master key)";
    return std::nullopt;
  }
  Reader r{body};
  Frame f;
  const uint64_t kind = r.Int(1);
  if (kind != uint64_t(FrameKind::kBatches) && kind != uint64_t(FrameKind::kFence) && kind != uint64_t(FrameKind::kSeed)) {
    *why = "a standby frame of unknown kind " + std::to_string(kind);
    return std::nullopt;
  }
  f.kind = static_cast<FrameKind>(kind);
  ShippedBatches& s = f.shipped;
  for (uint64_t* v : {&s.epoch, &s.primary_committed, &s.first_sequence, &s.end_sequence, &s.last_position}) *v = r.Int(8);
  const uint64_t families = r.Int(4);
  for (uint64_t i = 0; r.ok && i < families; ++i) {
    const uint32_t id = uint32_t(r.Int(4));
    const std::string_view name = r.Bytes();
    if (r.ok) s.families.emplace_back(id, std::string(name));
  }
  const uint64_t batches = r.Int(4);
  for (uint64_t i = 0; r.ok && i < batches; ++i) {
    const std::string_view b = r.Bytes();
    if (r.ok) s.batches.emplace_back(b);
  }
  if (!r.ok || !r.in.empty()) {
    *why = "a malformed standby frame";
    return std::nullopt;
  }
  return f;
}

std::vector<std::string> SplitFrame(const std::string& frame, size_t max_message) {
  if (frame.size() <= max_message) return {frame};
  const size_t chunk = max_message > 9 ? max_message - 9 : 1;
  const uint32_t count = uint32_t((frame.size() + chunk - 1) / chunk);
  std::vector<std::string> parts;
  for (uint32_t i = 0; i < count; ++i) {
    std::string part(1, static_cast<char>(kFramePart));
    Put32(part, i);
    Put32(part, count);
    part.append(frame, size_t(i) * chunk, chunk);
    parts.push_back(std::move(part));
  }
  return parts;
}

std::optional<std::string> FrameAssembler::Add(std::string_view message, std::string* why) {
  if (message.empty() || static_cast<uint8_t>(message[0]) != kFramePart) {
    if (expected_ > 0) {
      *why = "a standby frame in the middle of another frame's parts (the shipper restarted)";
      bytes_.clear();
      next_ = expected_ = 0;
    }
    return std::string(message);
  }
  Reader r{message.substr(1)};
  const uint32_t index = uint32_t(r.Int(4)), count = uint32_t(r.Int(4));
  if (!r.ok || count < 2 || index >= count) {
    *why = "a malformed standby frame part";
    bytes_.clear();
    next_ = expected_ = 0;
    return std::nullopt;
  }
  if (index == 0) {  // a frame's first part: a resend after a restart starts over too
    bytes_.clear();
    next_ = 0;
    expected_ = count;
  }
  if (index != next_ || count != expected_) {
    *why = "standby frame part " + std::to_string(index) + " of " + std::to_string(count) + " out of order";
    bytes_.clear();
    next_ = expected_ = 0;
    return std::nullopt;
  }
  bytes_.append(r.in);
  if (++next_ < expected_) return std::nullopt;
  std::string whole = std::move(bytes_);
  bytes_.clear();
  next_ = expected_ = 0;
  return whole;
}

}  // namespace caseledger::eventstore
