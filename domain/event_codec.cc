#include "domain/event_codec.h"

#include "domain/bounded_archive.h"
#include "domain/string_archive.h"

#include <cereal/archives/binary.hpp>
#include <cereal/types/common.hpp>

#include <sstream>
#include <unordered_map>

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
// have bytes left over.
template <class T>
bool DecodeBody(std::string_view bytes, T& value) {
  return DecodeCereal(bytes, value);
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

Result<Event> Corrupt(std::string_view type, uint32_t version) {
  return Error::Invalid("body", "cannot decode " + std::string(type) + " schema version " +
                                    std::to_string(version));
}

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

template <class T>
Result<Event> DecodeCurrent(std::string_view body, std::string_view personal) {
  T value;
  if (!DecodeBody(body, value) || !EnumsInRange(value)) return Corrupt(T::kType, T::kSchemaVersion);
  if constexpr (HasPersonal<T>) {
    if (!personal.empty() && !DecodeBody(personal, value.personal)) {
      return Error::Invalid("personal", "cannot decode personal data of " + std::string(T::kType));
    }
  }
  return Event{std::move(value)};
}

Result<Event> DecodeResultRecordedV1(std::string_view body, std::string_view) {
  legacy::ResultRecordedV1 old;
  if (!DecodeBody(body, old)) return Corrupt("ResultRecorded", 1);
  ResultRecorded now;
  now.swab_id = std::move(old.swab_id);
  now.outcome = old.positive ? Outcome::kPositive : Outcome::kNegative;
  now.lab_id = std::move(old.lab_id);
  now.reported_at = old.reported_at;
  return Event{std::move(now)};
}

// A request of schema 1 did not record its time: zero, which the domain reads as unknown.
Result<Event> DecodeSwabRequestedV1(std::string_view body, std::string_view) {
  legacy::SwabRequestedV1 old;
  if (!DecodeBody(body, old) || !InRange(old.kind)) return Corrupt("SwabRequested", 1);
  return Event{SwabRequested{std::move(old.swab_id), old.kind, std::move(old.reason),
                             std::move(old.requested_by), Timestamp{}}};
}

// A collection of schema 1 did not name the laboratory holding the sample: empty.
Result<Event> DecodeSwabCollectedV1(std::string_view body, std::string_view) {
  legacy::SwabCollectedV1 old;
  if (!DecodeBody(body, old)) return Corrupt("SwabCollected", 1);
  return Event{SwabCollected{std::move(old.swab_id), old.collected_at, std::move(old.site), ""}};
}

using Decoder = Result<Event> (*)(std::string_view, std::string_view);

struct DecoderKey {
  std::string_view type;
  uint32_t version;
  bool operator==(const DecoderKey&) const = default;
};
struct DecoderKeyHash {
  size_t operator()(const DecoderKey& k) const {
    return std::hash<std::string_view>()(k.type) * 31 + k.version;
  }
};

template <size_t... I>
void AddCurrentDecoders(std::unordered_map<DecoderKey, Decoder, DecoderKeyHash>& map,
                        std::index_sequence<I...>) {
  ((map[{std::variant_alternative_t<I, Event>::kType,
          std::variant_alternative_t<I, Event>::kSchemaVersion}] =
        &DecodeCurrent<std::variant_alternative_t<I, Event>>),
   ...);
}

const std::unordered_map<DecoderKey, Decoder, DecoderKeyHash>& Decoders() {
  static const auto* decoders = [] {
    auto* map = new std::unordered_map<DecoderKey, Decoder, DecoderKeyHash>();
    AddCurrentDecoders(*map, std::make_index_sequence<std::variant_size_v<Event>>());
    // Upcasters: one entry per (type, old version).
    (*map)[{"ResultRecorded", 1}] = &DecodeResultRecordedV1;
    (*map)[{"SwabRequested", 1}] = &DecodeSwabRequestedV1;
    (*map)[{"SwabCollected", 1}] = &DecodeSwabCollectedV1;
    return map;
  }();
  return *decoders;
}

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

Result<Event> Decode(std::string_view type, uint32_t schema_version, std::string_view body,
                     std::string_view personal) {
  const auto& decoders = Decoders();
  auto it = decoders.find(DecoderKey{type, schema_version});
  if (it == decoders.end()) {
    return Error::Invalid("type", "unknown event type or schema version: " + std::string(type) +
                                      " v" + std::to_string(schema_version));
  }
  return it->second(body, personal);
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
