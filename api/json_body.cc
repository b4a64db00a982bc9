#include "api/json_body.h"

#include "api/json_sax.h"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/value_stack.hpp>

#include <memory>
#include <set>
#include <vector>

namespace caseledger::api {
namespace {

// Boost.JSON 1.81 keeps the last of two members with the same key and has no option to
// refuse them (parse_options has none). ParseJsonObject sees that a key was given twice
// (CountingValueBuilder, below); this handler, reading the body again, names the first
// such key by its path ("rows[2].id").
class DuplicateKeyFinder : public SaxHandlerLimits {
 public:
  std::string duplicate;  // the path of the first key seen twice, or ""

  bool on_document_begin(boost::system::error_code&) { return true; }
  bool on_document_end(boost::system::error_code&) { return true; }
  bool on_object_begin(boost::system::error_code&) { return Open(true); }
  bool on_object_end(size_t, boost::system::error_code&) { return Close(); }
  bool on_array_begin(boost::system::error_code&) { return Open(false); }
  bool on_array_end(size_t, boost::system::error_code&) { return Close(); }
  bool on_key_part(std::string_view s, size_t, boost::system::error_code&) {
    key_.append(s);
    return true;
  }
  bool on_key(std::string_view s, size_t, boost::system::error_code& ec) {
    key_.append(s);
    Frame& f = frames_.back();
    f.name = key_;
    key_.clear();
    if (Insert(f)) return true;
    duplicate = Path();
    ec = std::make_error_code(std::errc::invalid_argument);
    return false;
  }
  bool on_string_part(std::string_view, size_t, boost::system::error_code&) { return true; }
  bool on_string(std::string_view, size_t, boost::system::error_code&) { return Value(); }
  bool on_number_part(std::string_view, boost::system::error_code&) { return true; }
  bool on_int64(int64_t, std::string_view, boost::system::error_code&) { return Value(); }
  bool on_uint64(uint64_t, std::string_view, boost::system::error_code&) { return Value(); }
  bool on_double(double, std::string_view, boost::system::error_code&) { return Value(); }
  bool on_bool(bool, boost::system::error_code&) { return Value(); }
  bool on_null(boost::system::error_code&) { return Value(); }
  bool on_comment_part(std::string_view, boost::system::error_code&) { return true; }
  bool on_comment(std::string_view, boost::system::error_code&) { return true; }

 private:
  // The keys of the objects being read are in keys_ (a frame's from its `first`): an object
  // of a few keys is searched in place, without a node per key; one of many moves its keys
  // to a set (a body of thousands of keys stays linear-time).
  static constexpr size_t kSearchedInPlace = 16;
  struct Frame {
    bool object = false;
    size_t index = 0;  // arrays: the element being read
    std::string name;  // objects: the member being read
    size_t first = 0;  // objects: where its keys start in keys_
    std::unique_ptr<std::set<std::string, std::less<>>> many;
  };

  // False when the frame's object holds f.name already.
  bool Insert(Frame& f) {
    if (f.many) return f.many->insert(f.name).second;
    for (size_t i = f.first; i < keys_.size(); ++i) {
      if (keys_[i] == f.name) return false;
    }
    keys_.push_back(f.name);
    if (keys_.size() - f.first > kSearchedInPlace) {
      f.many = std::make_unique<std::set<std::string, std::less<>>>();
      for (size_t i = f.first; i < keys_.size(); ++i) f.many->insert(std::move(keys_[i]));
      keys_.resize(f.first);
    }
    return true;
  }

  bool Open(bool object) {
    frames_.push_back({object, 0, {}, keys_.size(), nullptr});
    return true;
  }
  bool Close() {
    keys_.resize(frames_.back().first);
    frames_.pop_back();
    return Value();
  }
  // A value ended: the enclosing array moves to its next element.
  bool Value() {
    if (!frames_.empty() && !frames_.back().object) ++frames_.back().index;
    return true;
  }
  std::string Path() const {
    std::string path;
    for (const Frame& f : frames_) {
      if (f.object) {
        if (!path.empty()) path += '.';
        path += f.name;
      } else {
        path += "[" + std::to_string(f.index) + "]";
      }
    }
    return path;
  }

  std::vector<Frame> frames_;
  std::vector<std::string> keys_;
  std::string key_;
};

}  // namespace

std::optional<std::string> FindDuplicateKey(std::string_view json) {
  boost::json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  boost::json::basic_parser<DuplicateKeyFinder> parser(options);
  boost::system::error_code ec;
  parser.write_some(false, json.data(), json.size(), ec);
  if (parser.handler().duplicate.empty()) return std::nullopt;
  return std::move(parser.handler().duplicate);
}

namespace {

// Boost.JSON's own parser's handler (detail::handler: a value_stack fed by the SAX
// events), counting the members it hands each object. An object built from members with a
// repeated key keeps the last of them and is smaller than its count, so the parsed value
// holds fewer members in all than were counted exactly when some object held a key twice:
// one parse, and a walk over the objects of the value (a command body has one or two)
// instead of a second parse per body. The key's path is looked for only in a body that has
// one (FindDuplicateKey).
class CountingValueBuilder {
 public:
  static constexpr std::size_t max_object_size = boost::json::object::max_size();
  static constexpr std::size_t max_array_size = boost::json::array::max_size();
  static constexpr std::size_t max_key_size = boost::json::string::max_size();
  static constexpr std::size_t max_string_size = boost::json::string::max_size();

  // The stack's intermediate values in `temp` (the caller's) while they fit.
  CountingValueBuilder(unsigned char* temp, size_t temp_size) : st({}, temp, temp_size) {}

  boost::json::value_stack st;
  size_t members = 0;  // the members of every object, as read

  bool on_document_begin(boost::system::error_code&) { return true; }
  bool on_document_end(boost::system::error_code&) { return true; }
  bool on_object_begin(boost::system::error_code&) { return true; }
  bool on_object_end(size_t n, boost::system::error_code&) {
    members += n;
    st.push_object(n);
    return true;
  }
  bool on_array_begin(boost::system::error_code&) { return true; }
  bool on_array_end(size_t n, boost::system::error_code&) {
    st.push_array(n);
    return true;
  }
  bool on_key_part(std::string_view s, size_t, boost::system::error_code&) {
    st.push_chars(s);
    return true;
  }
  bool on_key(std::string_view s, size_t, boost::system::error_code&) {
    st.push_key(s);
    return true;
  }
  bool on_string_part(std::string_view s, size_t, boost::system::error_code&) {
    st.push_chars(s);
    return true;
  }
  bool on_string(std::string_view s, size_t, boost::system::error_code&) {
    st.push_string(s);
    return true;
  }
  bool on_number_part(std::string_view, boost::system::error_code&) { return true; }
  bool on_int64(int64_t i, std::string_view, boost::system::error_code&) {
    st.push_int64(i);
    return true;
  }
  bool on_uint64(uint64_t u, std::string_view, boost::system::error_code&) {
    st.push_uint64(u);
    return true;
  }
  bool on_double(double d, std::string_view, boost::system::error_code&) {
    st.push_double(d);
    return true;
  }
  bool on_bool(bool b, boost::system::error_code&) {
    st.push_bool(b);
    return true;
  }
  bool on_null(boost::system::error_code&) {
    st.push_null();
    return true;
  }
  bool on_comment_part(std::string_view, boost::system::error_code&) { return true; }
  bool on_comment(std::string_view, boost::system::error_code&) { return true; }
};

// The members of every object in `v`, as kept.
size_t MembersKept(const boost::json::value& v) {
  size_t n = 0;
  if (const auto* o = v.if_object()) {
    n += o->size();
    for (const auto& member : *o) n += MembersKept(member.value());
  } else if (const auto* a = v.if_array()) {
    for (const auto& element : *a) n += MembersKept(element);
  }
  return n;
}

}  // namespace

std::optional<boost::json::object> ParseJsonObject(std::string_view body, std::string* error,
                                                   boost::json::storage_ptr storage) {
  boost::json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  options.allow_invalid_utf8 = false;
  // A command body's few values are built on this stack frame, not in a heap block.
  unsigned char temp[1024];
  boost::json::basic_parser<CountingValueBuilder> parser(options, temp, sizeof temp);
  parser.handler().st.reset(std::move(storage));
  boost::system::error_code ec;
  const size_t used = parser.write_some(false, body.data(), body.size(), ec);
  if (!ec && used < body.size()) ec = boost::json::error::extra_data;  // as parser::write
  if (ec) {
    if (ec == boost::json::error::too_deep) {
      *error = "JSON nests deeper than " + std::to_string(kMaxJsonDepth) + " levels";
    } else if (ec == boost::json::error::syntax && !body.empty()) {
      *error = "body is not valid JSON (or not valid UTF-8)";
    } else {
      *error = body.empty() ? "body is empty; a JSON object is required"
                            : "body is not valid JSON: " + ec.message();
    }
    return std::nullopt;
  }
  boost::json::value v = parser.handler().st.release();
  if (!v.is_object()) {
    *error = "body must be a JSON object";
    return std::nullopt;
  }
  if (MembersKept(v) != parser.handler().members) {
    auto key = FindDuplicateKey(body);
    *error = "key \"" + key.value_or("?") + "\" appears more than once";
    return std::nullopt;
  }
  return std::move(v.as_object());
}

JsonFields::JsonFields(const boost::json::object& object, domain::FieldErrors& errors,
                       std::string prefix)
    : object_(object), errors_(errors), prefix_(std::move(prefix)) {}

const boost::json::value* JsonFields::Find(std::string_view name, bool required) {
  const auto it = object_.find(name);
  const boost::json::value* v = nullptr;
  if (it != object_.end()) {
    MarkSeen(static_cast<size_t>(it - object_.begin()));
    v = &it->value();
  }
  if (v == nullptr || v->is_null()) {
    if (required) errors_.Add(prefix_ + std::string(name), "is required");
    return nullptr;
  }
  return v;
}

void JsonFields::Wrong(std::string_view name, std::string_view expected) {
  errors_.Add(prefix_ + std::string(name), "must be " + std::string(expected));
}

std::optional<std::string> JsonFields::String(std::string_view name, bool required) {
  auto s = StringView(name, required);
  if (!s) return std::nullopt;
  return std::string(*s);
}

std::optional<std::string_view> JsonFields::StringView(std::string_view name, bool required) {
  const auto* v = Find(name, required);
  if (!v) return std::nullopt;
  if (!v->is_string()) {
    Wrong(name, "a string");
    return std::nullopt;
  }
  return std::string_view(v->as_string());
}

std::optional<int64_t> JsonFields::Int(std::string_view name, bool required) {
  const auto* v = Find(name, required);
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64() && v->as_uint64() <= uint64_t(INT64_MAX)) return int64_t(v->as_uint64());
  Wrong(name, "an integer");
  return std::nullopt;
}

std::optional<bool> JsonFields::Bool(std::string_view name, bool required) {
  const auto* v = Find(name, required);
  if (!v) return std::nullopt;
  if (!v->is_bool()) {
    Wrong(name, "true or false");
    return std::nullopt;
  }
  return v->as_bool();
}

// Dates and times are parsed where the body's value is: a time of 20-odd characters
// copied out first was a heap string per command that names one.
std::optional<domain::Date> JsonFields::Date(std::string_view name, bool required) {
  auto s = StringView(name, required);
  if (!s) return std::nullopt;
  auto d = domain::Date::Parse(*s);
  if (!d) Wrong(name, "a date YYYY-MM-DD");
  return d;
}

std::optional<domain::Timestamp> JsonFields::Time(std::string_view name, bool required) {
  auto s = StringView(name, required);
  if (!s) return std::nullopt;
  auto t = domain::Timestamp::Parse(*s);
  if (!t) Wrong(name, "an RFC 3339 date-time with offset, e.g. 2020-10-12T08:30:00Z");
  return t;
}

const boost::json::value* JsonFields::Raw(std::string_view name, bool required) {
  return Find(name, required);
}

void JsonFields::MarkSeen(size_t member) {
  if (member < 64) {
    seen_ |= uint64_t{1} << member;
    return;
  }
  if (seen_beyond_.size() <= member - 64) seen_beyond_.resize(member - 64 + 1);
  seen_beyond_[member - 64] = true;
}

bool JsonFields::Seen(size_t member) const {
  if (member < 64) return (seen_ >> member) & 1;
  return member - 64 < seen_beyond_.size() && seen_beyond_[member - 64];
}

void JsonFields::RejectUnknown() {
  size_t i = 0;
  for (const auto& member : object_) {
    if (!Seen(i++)) errors_.Add(prefix_ + std::string(member.key()), "is not a known field");
  }
}

}  // namespace caseledger::api
