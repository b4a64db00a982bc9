#include "api/http.h"

#include <cstring>

#include <strings.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <future>

namespace caseledger::api {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// What Decode looks at in a target: '%', the controls and DEL (1), '+' (2: a space in a query).
constexpr std::array<unsigned char, 256> kNotPlain = [] {
  std::array<unsigned char, 256> table{};
  for (int c = 0; c < 0x20; ++c) table[c] = 1;
  table[0x7f] = 1;
  table['%'] = 1;
  table['+'] = 2;
  return table;
}();

// `keep_separators`: "%2F" and "%25" stay escaped (upper case), so that the router can
// still tell a '/' inside a segment from one between segments.
bool Decode(std::string_view in, bool plus_is_space, std::string& out, bool keep_separators = false) {
  // Most targets have nothing to decode: one scan, one copy (a push_back per character
  // cost about a thousand instructions per request). The scan looks each character up in a
  // table (four comparisons per character were ~400 instructions for a person's path).
  const unsigned char look_for = plus_is_space ? 3 : 1;
  const bool plain = std::none_of(in.begin(), in.end(), [look_for](char c) {
    return (kNotPlain[static_cast<unsigned char>(c)] & look_for) != 0;
  });
  if (plain) {
    out.assign(in);
    return true;
  }
  out.clear();
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = HexValue(in[i + 1]), lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
      if (keep_separators && (c == '/' || c == '%')) {
        out += c == '/' ? "%2F" : "%25";
        continue;
      }
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
    out.push_back(c);
  }
  return true;
}

}  // namespace

// Declared in router.cc, its only user (http.h is included by every route file).
std::string DecodeSegment(std::string_view segment);
std::string DecodeSegment(std::string_view segment) {
  // Nearly every segment (a person's id) has nothing escaped: one copy, not a push_back
  // per character (~500 instructions per person query).
  if (segment.find('%') == std::string_view::npos) return std::string(segment);
  std::string out;
  out.reserve(segment.size());
  for (size_t i = 0; i < segment.size(); ++i) {
    if (segment[i] == '%' && i + 2 < segment.size() && segment[i + 1] == '2') {
      if (segment[i + 2] == 'F') {
        out.push_back('/');
        i += 2;
        continue;
      }
      if (segment[i + 2] == '5') {
        out.push_back('%');
        i += 2;
        continue;
      }
    }
    out.push_back(segment[i]);
  }
  return out;
}

const char* ToString(Method m) {
  switch (m) {
    case Method::kGet: return "GET";
    case Method::kPost: return "POST";
    case Method::kPut: return "PUT";
    case Method::kDelete: return "DELETE";
    case Method::kHead: return "HEAD";
    case Method::kOptions: return "OPTIONS";
    case Method::kOther: break;
  }
  return "OTHER";
}

namespace {

// `in` with its ASCII capitals lower-cased, written to `out`: eight bytes at a time (a
// byte is upper-case when it is ASCII and both in 'A'.. and not past 'Z'; its 0x20 bit
// is then set), the rest one at a time. Other bytes, UTF-8's among them, are copied as
// they are.
void LowerAsciiInto(char* out, std::string_view in) {
  constexpr uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  size_t i = 0;
  for (; i + 8 <= in.size(); i += 8) {
    uint64_t x;
    std::memcpy(&x, in.data() + i, 8);
    const uint64_t low7 = x & ~kHigh;
    const uint64_t from_a = low7 + (0x80 - 'A') * kOnes;      // high bit: >= 'A'
    const uint64_t past_z = low7 + (0x80 - 'Z' - 1) * kOnes;  // high bit: > 'Z'
    const uint64_t upper = from_a & ~past_z & ~x & kHigh;
    x |= upper >> 2;
    std::memcpy(out + i, &x, 8);
  }
  for (; i < in.size(); ++i) {
    const char c = in[i];
    out[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
}

}  // namespace

void RequestHeaders::Add(std::string_view name, std::string_view value) {
  // One growth of the string, then the name lower-cased as it is copied (three appends and
  // a second pass over the name were ~2x the instructions: ~0.8 k a command's four fields).
  const uint32_t sizes[2] = {static_cast<uint32_t>(name.size()), static_cast<uint32_t>(value.size())};
  const size_t at = text_.size();
  text_.resize(at + sizeof sizes + name.size() + value.size());
  char* out = text_.data() + at;
  std::memcpy(out, sizes, sizeof sizes);
  out += sizeof sizes;
  LowerAsciiInto(out, name);
  out += name.size();
  if (!value.empty()) std::memcpy(out, value.data(), value.size());
  name_sizes_ |= SizeBit(name.size());
}

std::string_view RequestHeaders::Find(std::string_view lower_name) const {
  if ((name_sizes_ & SizeBit(lower_name.size())) == 0) return {};
  std::string_view rest = text_;
  while (rest.size() >= 8) {
    uint32_t sizes[2];
    std::memcpy(sizes, rest.data(), sizeof sizes);
    rest.remove_prefix(sizeof sizes);
    if (rest.substr(0, sizes[0]) == lower_name) return rest.substr(sizes[0], sizes[1]);
    rest.remove_prefix(sizes[0] + sizes[1]);
  }
  return {};
}

std::string_view Request::Header(std::string_view lower_name) const { return headers.Find(lower_name); }

std::optional<std::string> Request::Query(std::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return v;
  }
  return std::nullopt;
}

std::string_view Response::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), k.size()) == 0) return v;
  }
  return {};
}

bool ParseTarget(std::string_view target, std::string& path,
                 std::vector<std::pair<std::string, std::string>>& query) {
  if (target.empty() || target.front() != '/') return false;
  auto q = target.find('?');
  if (!Decode(target.substr(0, q), false, path, true)) return false;
  query.clear();
  if (q == std::string_view::npos) return true;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    std::string k, v;
    if (!Decode(pair.substr(0, eq), true, k)) return false;
    if (eq != std::string_view::npos && !Decode(pair.substr(eq + 1), true, v)) return false;
    query.emplace_back(std::move(k), std::move(v));
  }
  return true;
}

namespace {

// Then()'s: the answer passed on through `inner` with `map` applied.
struct MappedReply final : Replier {
  MappedReply(Reply i, std::function<Response(Response)> m) : inner(std::move(i)), map(std::move(m)) {}
  void Post(std::function<void()> work) override { inner.post(std::move(work)); }
  void Respond(Response&& res) override { inner.respond(map(std::move(res))); }
  Reply inner;
  std::function<Response(Response)> map;
};

// AwaitAnswer()'s: work runs where it is posted from; the first answer is the future's.
struct AwaitedReply final : Replier {
  void Post(std::function<void()> work) override { work(); }
  void Respond(Response&& res) override {
    if (!answered.exchange(true)) answer.set_value(std::move(res));
  }
  std::promise<Response> answer;
  std::atomic<bool> answered{false};
};

}  // namespace

Response Then(Response res, std::function<Response(Response)> map) {
  if (!res.deferred) return map(std::move(res));
  Response later;
  later.deferred = [inner = std::move(res.deferred), map = std::move(map)](Reply reply) {
    inner(Reply{std::make_shared<MappedReply>(std::move(reply), map)});
  };
  return later;
}

Response AwaitAnswer(Response res) {
  if (!res.deferred) return res;
  auto awaited = std::make_shared<AwaitedReply>();
  std::future<Response> future = awaited->answer.get_future();
  auto deferred = std::move(res.deferred);
  deferred(Reply{awaited});
  return future.get();
}

}  // namespace caseledger::api
