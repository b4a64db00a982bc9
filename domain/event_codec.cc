#include "domain/event_codec.h"

#include "domain/body_reader.h"
#include "domain/string_archive.h"

#include <cereal/archives/binary.hpp>
#include <cereal/types/common.hpp>

#include <array>
#include <utility>

namespace caseledger::domain {
namespace {

template <class T>
concept HasPersonal = requires(T t) { t.personal; };

template <class T>
std::string EncodeBody(const T& value) {
  // Bodies are short (all of the demo workload's below 96 bytes, most 32-80): one
  // allocation instead of growing from the small-string buffer by doubling, up to three
  // times (std::string's _M_mutate was ~3 % of the bulk load's generator in a profile).
  std::string out;
  out.reserve(96);
  {
    StringOutputArchive ar(out);
    ar(const_cast<T&>(value));
  }
  return out;
}

// Decodes `bytes` into `value`; false if they are short, impossible (bounded_archive.h) or
// have bytes left over. ReadBody: DecodeCereal's outcome without cereal's archive
// (body_reader.h says why).
template <class T>
bool DecodeBody(std::string_view bytes, T& value) {
  return ReadBody(bytes, value);
}

// ---- older schema versions ----
namespace legacy {
struct ResultRecordedV1 {
  std::string swab_id;
  bool positive = false;
  std::string lab_id;
  Timestamp reported_at;
  template <class A> void serialize(A& ar) { ar(swab_id, positive, lab_id, reported_at); }
};
struct SwabRequestedV1 {
  std::string swab_id;
  SwabKind kind = SwabKind::kMolecular;
  std::string reason;
  std::string requested_by;
  template <class A> void serialize(A& ar) { ar(swab_id, kind, reason, requested_by); }
};
struct SwabCollectedV1 {
  std::string swab_id;
  Timestamp collected_at;
  std::string site;
  template <class A> void serialize(A& ar) { ar(swab_id, collected_at, site); }
};
}  // namespace legacy

// Enum members must hold a named value; a byte outside the range is corruption.
bool InRange(Sex v) { return v <= Sex::kUnknown; }
bool InRange(SwabKind v) { return v <= SwabKind::kAntigen; }
bool InRange(Outcome v) { return v <= Outcome::kInconclusive; }
bool InRange(SchoolRole v) { return v <= SchoolRole::kStaff; }
bool InRange(MeasureEndReason v) { return v <= MeasureEndReason::kCaseClosed; }
bool InRange(CaseOutcome v) { return v <= CaseOutcome::kDeceased; }

template <class T>
bool EnumsInRange(const T& v) {
  if constexpr (requires { v.sex; }) if (!InRange(v.sex)) return false;
  if constexpr (requires { v.kind; }) if (!InRange(v.kind)) return false;
  if constexpr (requires { v.outcome; }) if (!InRange(v.outcome)) return false;
  if constexpr (requires { v.previous_outcome; }) if (!InRange(v.previous_outcome)) return false;
  if constexpr (requires { v.role; }) {
    if constexpr (std::is_same_v<std::remove_cvref_t<decltype(v.role)>, SchoolRole>) if (!InRange(v.role)) return false;
  }
  if constexpr (requires { v.reason; }) {
    if constexpr (std::is_same_v<std::remove_cvref_t<decltype(v.reason)>, MeasureEndReason>) if (!InRange(v.reason)) return false;
  }
  return true;
}

// What a decoder made of its bytes (DecodeInto words the error).
enum class Decoded { kOk, kBadBody, kBadPersonal };

// The event of `out` of type T to decode into: the one it holds, or a new one. Why: a
// rebuild decodes ~10^8 events into the slots of a few batches read again and again, and
// an event decoded into the slot's own (every field but the personal part is assigned by
// its load) keeps its strings' buffers instead of building, moving and destroying an event.
// (Handing a replaced event's long strings' buffers to the new one was tried: its moves
// cost what the allocations it saved did, docs/benchmarks.md, session 33.)
template <class T>
T& Slot(Event& out) {
  if (T* held = std::get_if<T>(&out)) return *held;
  return out.template emplace<T>();
}

template <class T>
Decoded DecodeCurrent(std::string_view body, std::string_view personal, Event& out) {
  T& value = Slot<T>(out);
  if (!DecodeBody(body, value) || !EnumsInRange(value)) return Decoded::kBadBody;
  if constexpr (HasPersonal<T>) {
    if (personal.empty()) {
      if (!value.personal.empty()) value.personal = Personal{};
    } else if (!DecodeBody(personal, value.personal)) {
      return Decoded::kBadPersonal;
    }
  }
  return Decoded::kOk;
}

Decoded DecodeResultRecordedV1(std::string_view body, std::string_view, Event& out) {
  legacy::ResultRecordedV1 old;
  if (!DecodeBody(body, old)) return Decoded::kBadBody;
  ResultRecorded& now = Slot<ResultRecorded>(out);
  now.swab_id = std::move(old.swab_id);
  now.outcome = old.positive ? Outcome::kPositive : Outcome::kNegative;
  now.lab_id = std::move(old.lab_id);
  now.reported_at = old.reported_at;
  return Decoded::kOk;
}

// A request of schema 1 did not record its time: zero, which the domain reads as unknown.
Decoded DecodeSwabRequestedV1(std::string_view body, std::string_view, Event& out) {
  legacy::SwabRequestedV1 old;
  if (!DecodeBody(body, old) || !InRange(old.kind)) return Decoded::kBadBody;
  out = SwabRequested{std::move(old.swab_id), old.kind, std::move(old.reason), std::move(old.requested_by),
                      Timestamp{}};
  return Decoded::kOk;
}

// A collection of schema 1 did not name the laboratory holding the sample: empty.
Decoded DecodeSwabCollectedV1(std::string_view body, std::string_view, Event& out) {
  legacy::SwabCollectedV1 old;
  if (!DecodeBody(body, old)) return Decoded::kBadBody;
  out = SwabCollected{std::move(old.swab_id), old.collected_at, std::move(old.site), ""};
  return Decoded::kOk;
}

using Decoder = Decoded (*)(std::string_view, std::string_view, Event&);

// The decoders by (type, schema version): an open-addressed table of 64 slots placed by the
// name's length and three of its letters, then compared whole. Why not a hash of the name:
// every event a rebuild reads is looked up here, and std::hash of the name into an
// unordered_map was ~3.8 % of the reading thread's time (docs/benchmarks.md, session 26).
class DecoderTable {
 public:
  DecoderTable() {
    AddCurrent(std::make_index_sequence<std::variant_size_v<Event>>());
    // Upcasters: one entry per (type, old version).
    Add("ResultRecorded", 1, &DecodeResultRecordedV1);
    Add("SwabRequested", 1, &DecodeSwabRequestedV1);
    Add("SwabCollected", 1, &DecodeSwabCollectedV1);
  }
  Decoder Find(std::string_view type, uint32_t version) const {
    for (size_t i = Home(type, version);; i = (i + 1) % kSlots) {
      const Entry& e = slots_[i];
      if (e.decode == nullptr) return nullptr;
      if (e.version == version && e.type == type) return e.decode;
    }
  }

 private:
  static constexpr size_t kSlots = 64;  // more than twice the entries: short probes, never full
  struct Entry {
    std::string_view type;
    uint32_t version = 0;
    Decoder decode = nullptr;
  };
  static size_t Home(std::string_view type, uint32_t version) {
    if (type.empty()) return version % kSlots;
    const auto at = [&](size_t i) { return static_cast<size_t>(static_cast<unsigned char>(type[i])); };
    return (type.size() * 7 + at(0) * 3 + at(type.size() / 2) * 5 + at(type.size() - 1) + version) % kSlots;
  }
  void Add(std::string_view type, uint32_t version, Decoder decode) {
    size_t i = Home(type, version);
    while (slots_[i].decode != nullptr) i = (i + 1) % kSlots;
    slots_[i] = Entry{type, version, decode};
  }
  template <size_t... I>
  void AddCurrent(std::index_sequence<I...>) {
    (Add(std::variant_alternative_t<I, Event>::kType, std::variant_alternative_t<I, Event>::kSchemaVersion,
         &DecodeCurrent<std::variant_alternative_t<I, Event>>),
     ...);
  }
  std::array<Entry, kSlots> slots_{};
};

}  // namespace

std::string_view TypeName(const Event& e) {
  return std::visit([](const auto& v) { return std::decay_t<decltype(v)>::kType; }, e);
}

EncodedEvent Encode(const Event& event) {
  return std::visit(
      [](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        EncodedEvent out{std::string(T::kType), T::kSchemaVersion, EncodeBody(v), {}};
        if constexpr (HasPersonal<T>) {
          if (!v.personal.empty()) out.personal = EncodeBody(v.personal);
        }
        return out;
      },
      event);
}

EncodedSizes EncodeTo(const Event& event, std::string& out) {
  return std::visit(
      [&out](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        EncodedSizes sizes{T::kType, T::kSchemaVersion, 0, 0};
        const size_t start = out.size();
        {
          StringOutputArchive ar(out);
          ar(const_cast<T&>(v));
        }
        sizes.body = out.size() - start;
        if constexpr (HasPersonal<T>) {
          if (!v.personal.empty()) {
            StringOutputArchive ar(out);
            ar(const_cast<std::decay_t<decltype(v.personal)>&>(v.personal));
            sizes.personal = out.size() - start - sizes.body;
          }
        }
        return sizes;
      },
      event);
}

Result<void> DecodeInto(std::string_view type, uint32_t schema_version, std::string_view body,
                        std::string_view personal, Event& out) {
  static const DecoderTable decoders;
  const Decoder decode = decoders.Find(type, schema_version);
  if (decode == nullptr) {
    return Error::Invalid("type", "unknown event type or schema version: " + std::string(type) +
                                      " v" + std::to_string(schema_version));
  }
  switch (decode(body, personal, out)) {
    case Decoded::kOk:
      return {};
    case Decoded::kBadBody:
      return Error::Invalid("body", "cannot decode " + std::string(type) + " schema version " +
                                        std::to_string(schema_version));
    case Decoded::kBadPersonal:
      break;
  }
  return Error::Invalid("personal", "cannot decode personal data of " + std::string(type));
}

Result<Event> Decode(std::string_view type, uint32_t schema_version, std::string_view body,
                     std::string_view personal) {
  Event event;
  if (auto decoded = DecodeInto(type, schema_version, body, personal, event); !decoded) return decoded.error();
  return event;
}

const Personal* PersonalOf(const Event& event) {
  return std::visit(
      [](const auto& v) -> const Personal* {
        if constexpr (HasPersonal<std::decay_t<decltype(v)>>) return &v.personal;
        return nullptr;
      },
      event);
}

Personal* PersonalOf(Event& event) {
  return const_cast<Personal*>(PersonalOf(static_cast<const Event&>(event)));
}

}  // namespace caseledger::domain
