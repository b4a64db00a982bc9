#include "api/command_answer.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <string_view>
#include <variant>

namespace caseledger::api {
namespace {

// A command's answer, written as text: the fields in the order Boost.JSON's object keeps
// them (a field set again keeps its place and takes the new value), with its string
// escapes; a boost::json::object per answer cost a few thousand instructions per command.
// The values are written one after the other into one buffer (a field set again writes its
// new value at the end and points there), and the answer into room sized for it: a string
// per field and a growing answer were ~6 allocations per command.
class AnswerJson {
 public:
  AnswerJson() { values_.reserve(256); }
  void Set(std::string_view key, uint64_t n) {
    char digits[24];
    Value(key, std::string_view(digits, std::to_chars(digits, digits + sizeof digits, n).ptr - digits));
  }
  void Set(std::string_view key, std::string_view text) {
    const size_t at = values_.size();
    values_.push_back('"');
    if (std::none_of(text.begin(), text.end(), [](char c) {
          return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20;
        })) {
      values_.append(text).push_back('"');  // ids and stream names: nothing to escape
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      for (char c : text) {
        switch (c) {
          case '"': values_ += "\\\""; break;
          case '\\': values_ += "\\\\"; break;
          case '\b': values_ += "\\b"; break;
          case '\f': values_ += "\\f"; break;
          case '\n': values_ += "\\n"; break;
          case '\r': values_ += "\\r"; break;
          case '\t': values_ += "\\t"; break;
          default:
            if (static_cast<unsigned char>(c) < 0x20) {
              values_ += "\\u00";
              values_.push_back(kHex[(c >> 4) & 0xf]);
              values_.push_back(kHex[c & 0xf]);
            } else {
              values_.push_back(c);
            }
        }
      }
      values_.push_back('"');
    }
    Field(key) = {at, values_.size() - at};
  }
  std::string Text() const {
    size_t size = 2;  // the braces
    for (size_t i = 0; i < size_; ++i) size += (i > 0) + keys_[i].size() + 3 + fields_[i].size;
    std::string out;
    out.reserve(size);
    out.push_back('{');
    for (size_t i = 0; i < size_; ++i) {
      if (i > 0) out.push_back(',');
      out.push_back('"');
      out.append(keys_[i]);
      out += "\":";
      out.append(values_, fields_[i].at, fields_[i].size);
    }
    out.push_back('}');
    return out;
  }

 private:
  struct Written {
    size_t at = 0;  // in values_
    size_t size = 0;
  };
  void Value(std::string_view key, std::string_view text) {
    const size_t at = values_.size();
    values_.append(text);
    Field(key) = {at, text.size()};
  }
  Written& Field(std::string_view key) {  // keys are this file's literals: no escapes
    for (size_t i = 0; i < size_; ++i) {
      if (keys_[i] == key) return fields_[i];
    }
    keys_[size_] = key;
    return fields_[size_++];
  }
  static constexpr size_t kMaxFields = 8;  // position, first_position, stream, version, 3 ids
  std::array<std::string_view, kMaxFields> keys_;
  std::array<Written, kMaxFields> fields_;
  size_t size_ = 0;
  std::string values_;
};

// The ids a client needs from the events of one answer.
void AddIds(AnswerJson& out, const std::vector<domain::Event>& events) {
  for (const auto& e : events) {
    if (const auto* v = std::get_if<domain::PersonRegistered>(&e)) out.Set("person_id", v->person_id);
    if (const auto* v = std::get_if<domain::SwabRequested>(&e)) out.Set("swab_id", v->swab_id);
    if (const auto* v = std::get_if<domain::IsolationOrdered>(&e)) out.Set("measure_id", v->measure_id);
    if (const auto* v = std::get_if<domain::QuarantineOrdered>(&e)) out.Set("measure_id", v->measure_id);
  }
}

}  // namespace

Response CommandAnswer(const eventstore::AppendResult& r, const std::vector<domain::Event>& events,
                       const std::string& person_id) {
  AnswerJson o;
  o.Set("position", r.last_position);
  o.Set("first_position", r.first_position);
  o.Set("stream", r.stream);
  o.Set("version", r.version);
  if (!person_id.empty()) o.Set("person_id", person_id);
  AddIds(o, events);
  Response res;
  res.status = 201;
  res.body = o.Text();
  res.headers.reserve(4);  // room for all of them at once, not grown one by one
  res.Set("ETag", "\"" + std::to_string(r.version) + "\"");
  res.Set("X-Position", std::to_string(r.last_position));
  if (r.replayed) res.Set("Idempotent-Replayed", "true");
  if (r.stream.starts_with("person-") && std::holds_alternative<domain::PersonRegistered>(events.front())) {
    res.Set("Location", "/v1/people/" + r.stream.substr(7));
  }
  return res;
}

}  // namespace caseledger::api
