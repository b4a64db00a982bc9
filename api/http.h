// The HTTP message types that routes see. No Beast here: routes know nothing about
// sockets or parsers, and files that include this header compile fast.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace caseledger::api {

class SseSubscriber;
struct Reply;

enum class Method { kGet, kPost, kPut, kDelete, kHead, kOptions, kOther };

const char* ToString(Method m);

// A request's header fields, names lower-case, in order, packed in one string (each
// field: its name's size and its value's, 4 bytes each, then the name and the value): one
// allocation per request where a string per name and value took one for every value longer
// than 15 bytes (the bearer token's among them).
class RequestHeaders {
 public:
  RequestHeaders() = default;
  RequestHeaders(std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
    for (const auto& [name, value] : fields) Add(name, value);
  }
  // The name is kept lower-cased (ASCII only: no locale).
  void Add(std::string_view name, std::string_view value);
  // Room for fields whose names and values hold `bytes` in all.
  void Reserve(size_t fields, size_t bytes) { text_.reserve(text_.size() + fields * 8 + bytes); }
  // The first field named `lower_name`; empty when absent.
  std::string_view Find(std::string_view lower_name) const;

 private:
  // Bit n is set when a field's name has n bytes (bit 63: 63 or more). Most look-ups are of
  // fields a request does not carry (If-Match, Idempotency-Key, X-Correlation-Id on every
  // command): a name of a size no field has is absent without a walk over the fields.
  static uint64_t SizeBit(size_t name_size) { return uint64_t{1} << (name_size < 63 ? name_size : 63); }

  std::string text_;
  uint64_t name_sizes_ = 0;
};

struct Request {
  Method method = Method::kGet;
  std::string target;  // as received: path and query
  std::string path;    // percent-decoded path but "%2F", "%25" (router.cc), no query
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  RequestHeaders headers;
  std::string body;

  // Empty when absent.
  std::string_view Header(std::string_view lower_name) const;
  std::optional<std::string> Query(std::string_view name) const;
};

struct Response {
  int status = 200;
  // Always a literal or another text that outlives the answer (a static asset's): a string
  // here was an allocation per answer ("application/json" is one byte past the short-string
  // buffer).
  std::string_view content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Instead of `body`, an answer kept elsewhere (a person's, api/person_cache.h), held until
  // it is written rather than copied into `body`. Body() reads whichever is set.
  std::shared_ptr<const std::string> kept_body;
  std::string_view Body() const { return kept_body ? std::string_view(*kept_body) : std::string_view(body); }
  // Set by a read route that must first see position N applied (min_position): the
  // server waits (asynchronously, bounded) and calls the route again, or answers 503.
  uint64_t wait_for_position = 0;
  bool close = false;  // close the connection after this answer
  // When set, the answer is a text/event-stream: the server writes the headers, then the
  // subscriber's frames as they come, until the client goes away or the server stops.
  std::shared_ptr<SseSubscriber> events;
  // When set, this is not the answer yet: the answer comes later (a command whose append
  // is in a group commit). Whoever answers the request calls it once with a Reply.
  std::function<void(Reply)> deferred;

  Response& Set(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  std::string_view Header(std::string_view name) const;
};

// Where a deferred answer goes, implemented by whoever answers the request (the
// dispatcher's exchange, which a command's run reaches with no closure allocated for it).
class Replier {
 public:
  virtual ~Replier() = default;
  // Runs `work` on the thread that owns the request (the connection's I/O thread).
  virtual void Post(std::function<void()> work) = 0;
  // Hands the answer back, from any thread (the first call counts).
  virtual void Respond(Response&& res) = 0;
};
// `post` runs work on the thread that owns the request, never inline in the caller;
// `respond` hands the answer back, from any thread (the first call counts).
struct Reply {
  std::shared_ptr<Replier> to;
  void post(std::function<void()> work) const { to->Post(std::move(work)); }
  void respond(Response res) const { to->Respond(std::move(res)); }
};

// `map` applied to the answer: now, or when a deferred answer comes.
Response Then(Response res, std::function<Response(Response)> map);
// The answer itself, waiting on this thread for a deferred one (the work it posts runs on
// whatever thread completes it). For callers that need an answer in hand (a batch's rows).
Response AwaitAnswer(Response res);

// Splits "path?query" and percent-decodes both (the path but "%2F" and "%25"); false when
// the target is malformed (bad percent escape, not starting with '/', control characters).
bool ParseTarget(std::string_view target, std::string& path,
                 std::vector<std::pair<std::string, std::string>>& query);

}  // namespace caseledger::api
