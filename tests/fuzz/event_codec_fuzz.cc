// The event codec (domain/event_codec.h): stored payload bytes of every event type and
// schema version. Input: one byte choosing the (type, version), two bytes (little-endian)
// of body length, the body, then the personal part. Property: what decodes re-encodes to
// bytes that decode to the same encoding.
#include "domain/event_codec.h"
#include "tests/fuzz/fuzz_target.h"

#include <utility>
#include <vector>

namespace {

using caseledger::domain::Event;

template <size_t... I>
std::vector<std::pair<std::string_view, uint32_t>> CurrentTypes(std::index_sequence<I...>) {
  return {{std::variant_alternative_t<I, Event>::kType, std::variant_alternative_t<I, Event>::kSchemaVersion}...};
}

const std::vector<std::pair<std::string_view, uint32_t>>& Types() {
  static const auto types = [] {
    auto t = CurrentTypes(std::make_index_sequence<std::variant_size_v<Event>>());
    // The upcast schema versions, and one the codec does not know.
    t.insert(t.end(), {{"ResultRecorded", 1}, {"SwabRequested", 1}, {"SwabCollected", 1}, {"Nope", 7}});
    return t;
  }();
  return types;
}

}  // namespace

CASELEDGER_FUZZ_TARGET(event_codec) {
  namespace domain = caseledger::domain;
  if (size < 3) return 0;
  const auto& [type, version] = Types()[data[0] % Types().size()];
  const size_t body_size = std::min<size_t>(size - 3, data[1] | (size_t(data[2]) << 8));
  std::string_view rest = caseledger::fuzz::AsText(data + 3, size - 3);
  auto decoded = domain::Decode(type, version, rest.substr(0, body_size), rest.substr(body_size));
  if (!decoded) return 0;
  domain::EncodedEvent once = domain::Encode(*decoded);
  auto again = domain::Decode(once.type, once.schema_version, once.body, once.personal);
  FUZZ_CHECK(again.has_value());
  domain::EncodedEvent twice = domain::Encode(*again);
  FUZZ_CHECK(twice.type == once.type && twice.body == once.body && twice.personal == once.personal);
  return 0;
}
