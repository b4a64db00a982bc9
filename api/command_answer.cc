#include "api/command_answer.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <string_view>
#include <variant>

namespace caseledger::api {
namespace {

// Whether a byte must be escaped in a JSON string: one table load a byte where three
// comparisons were (the scan was the answer's largest part, over ~60 bytes of ids).
constexpr std::array<bool, 256> kEscaped = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = true;
  t['"'] = t['\\'] = true;
  return t;
}();

// Writes `text` as a JSON string, with Boost.JSON's escapes.
void AppendString(std::string& out, std::string_view text) {
  out.push_back('"');
  if (std::none_of(text.begin(), text.end(), [](char c) { return kEscaped[static_cast<unsigned char>(c)]; })) {
    out.append(text).push_back('"');  // ids and stream names: nothing to escape
    return;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += "\\u00";
          out.push_back(kHex[(c >> 4) & 0xf]);
          out.push_back(kHex[c & 0xf]);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

void AppendNumber(std::string& out, uint64_t n) {
  char digits[24];
  out.append(digits, std::to_chars(digits, digits + sizeof digits, n).ptr);
}

// The ids a client needs from the events of one answer, as Boost.JSON's object kept them
// when the answer was one: each in the place it was first named, with the last value
// named (a measure's id is a number, the others strings). Found before anything is
// written, so that the answer is written once, straight into room sized for it: a buffer of
// values written in the order set, with a table of where each field's last one was, then
// copied into the answer, was ~3 k instructions a command on its I/O thread.
struct Ids {
  enum Name { kPerson, kSwab, kMeasure };
  static constexpr std::string_view kKeys[] = {"person_id", "swab_id", "measure_id"};
  std::array<Name, 3> order{};
  size_t size = 0;
  std::string_view person, swab;
  uint64_t measure = 0;

  void Named(Name name) {
    if (std::find(order.begin(), order.begin() + size, name) == order.begin() + size) order[size++] = name;
  }
  void Person(std::string_view id) { Named(kPerson), person = id; }
  void Swab(std::string_view id) { Named(kSwab), swab = id; }
  void Measure(uint64_t id) { Named(kMeasure), measure = id; }
};

Ids IdsOf(const std::vector<domain::Event>& events, const std::string& person_id) {
  Ids ids;
  if (!person_id.empty()) ids.Person(person_id);
  for (const auto& e : events) {
    if (const auto* v = std::get_if<domain::PersonRegistered>(&e)) ids.Person(v->person_id);
    if (const auto* v = std::get_if<domain::SwabRequested>(&e)) ids.Swab(v->swab_id);
    if (const auto* v = std::get_if<domain::IsolationOrdered>(&e)) ids.Measure(v->measure_id);
    if (const auto* v = std::get_if<domain::QuarantineOrdered>(&e)) ids.Measure(v->measure_id);
  }
  return ids;
}

std::string Quoted(uint64_t n) {
  char text[24];
  text[0] = '"';
  char* end = std::to_chars(text + 1, text + sizeof text - 1, n).ptr;
  *end++ = '"';
  return std::string(text, end);
}

std::string Decimal(uint64_t n) {
  char text[24];
  return std::string(text, std::to_chars(text, text + sizeof text, n).ptr);
}

}  // namespace

Response CommandAnswer(const eventstore::AppendResult& r, const std::vector<domain::Event>& events,
                       const std::string& person_id) {
  const Ids ids = IdsOf(events, person_id);
  Response res;
  res.status = 201;
  std::string& out = res.body;
  // Numbers at most 20 digits; strings longer only when escaped (then the string grows).
  out.reserve(128 + r.stream.size() + ids.person.size() + ids.swab.size());
  out += "{\"position\":";
  AppendNumber(out, r.last_position);
  out += ",\"first_position\":";
  AppendNumber(out, r.first_position);
  out += ",\"stream\":";
  AppendString(out, r.stream);
  out += ",\"version\":";
  AppendNumber(out, r.version);
  for (size_t i = 0; i < ids.size; ++i) {
    out += ",\"";
    out += Ids::kKeys[ids.order[i]];
    out += "\":";
    switch (ids.order[i]) {
      case Ids::kPerson: AppendString(out, ids.person); break;
      case Ids::kSwab: AppendString(out, ids.swab); break;
      case Ids::kMeasure: AppendNumber(out, ids.measure); break;
    }
  }
  out.push_back('}');
  res.headers.reserve(4);  // room for all of them at once, not grown one by one
  res.Set("ETag", Quoted(r.version));
  res.Set("X-Position", Decimal(r.last_position));
  if (r.replayed) res.Set("Idempotent-Replayed", "true");
  if (r.stream.starts_with("person-") && std::holds_alternative<domain::PersonRegistered>(events.front())) {
    std::string location;
    location.reserve(11 + r.stream.size() - 7);
    location.append("/v1/people/").append(r.stream, 7);
    res.Set("Location", std::move(location));
  }
  return res;
}

}  // namespace caseledger::api
