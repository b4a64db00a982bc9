// Maps method + path to a route. Patterns are literal segments and `{name}` parameters
// ("/v1/people/{id}/swabs"); a parameter never matches an empty segment or a '/'.
#pragma once

#include "api/http.h"
#include "domain/access.h"

#include <boost/container/static_vector.hpp>

#include <array>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace caseledger::api {

// The caller: the token's subject and the grants the log holds for it at this request.
struct Principal {
  std::string subject;      // token "sub"
  domain::GrantSet grants;  // empty: authenticated, but may do nothing yet
};

// A route's path parameters by name ("{id}" -> its decoded segment), at most kMax (a
// pattern with more is refused by Router::Add): kept in place, in pattern order, with names
// that view the route's pattern (the router outlives every request). A map cost every
// request to such a route a node and a key string.
class PathParams {
 public:
  static constexpr size_t kMax = 4;

  // The value of `name`; std::out_of_range when there is none (a route asks for the
  // parameters of its own pattern).
  const std::string& at(std::string_view name) const;
  // The value of `name`, or null.
  const std::string* Find(std::string_view name) const;
  size_t size() const { return params_.size(); }
  // Router only. `name` must outlive this (a route's pattern); false when full.
  bool Add(std::string_view name, std::string value);
  void Clear() { params_.clear(); }

 private:
  struct Param {
    std::string_view name;
    std::string value;
  };
  boost::container::static_vector<Param, kMax> params_;
};

struct RouteRequest {
  const Request& http;
  PathParams params;  // path parameters by name
  Principal principal;
};

enum class RouteKind {
  kQuery,    // fast, non-blocking: runs on an I/O thread
  kCommand,  // appends and waits for its WAL sync (EventStore::Append): runs on the command pool
  // Appends without waiting: decides on the I/O thread like a query (point reads, no wait)
  // and hands its append to the group commit (AppendAsync), returning a deferred answer
  // that the commit's completion settles (command_service.h). Saves the hop to a pool
  // thread and back; its handler must never block on a sync.
  kDeferredCommand,
};

// Whether routes of this kind write (a read replica refuses them).
inline bool Writes(RouteKind kind) { return kind != RouteKind::kQuery; }

using Handler = std::function<Response(const RouteRequest&)>;
// Hands a route's answer back, from any thread; the first call counts, later ones are
// ignored.
using Respond = std::function<void(Response)>;
// A handler that answers later through `respond` (e.g. once the group commit it joined is
// synced) instead of returning; `req` stays valid until it has responded.
using AsyncHandler = std::function<void(const RouteRequest& req, Respond respond)>;
// Decides on the caller alone, before any byte of the body is read, whether it may use a
// route at all: nullopt admits, a Response (403) is answered without reading the body.
using Admission = std::function<std::optional<Response>(const Principal&)>;

struct Route {
  Method method = Method::kGet;
  std::string pattern;
  RouteKind kind = RouteKind::kQuery;
  bool authenticated = true;
  Handler handler;
  // The largest body this route reads; 0: the server's command body limit.
  size_t body_limit = 0;
  // Optional, for authenticated routes: the gate run on the headers (see Admission).
  Admission admit = nullptr;
  // Set instead of `handler` by a route that completes later. Called where `handler`
  // would be (an I/O thread for a query, the command pool for a command).
  AsyncHandler async_handler = nullptr;
};

class Router {
 public:
  void Add(Route route);

  struct Match {
    const Route* route = nullptr;  // null: see `status`
    PathParams params;
    int status = 0;                // 404 no such path, 405 path exists for other methods
    std::string allow;             // for 405: the methods the path accepts
  };
  Match Find(Method method, const std::string& path) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  // `from`: both pattern and path begin with the same `from` literal characters (a bucket's
  // head), which are not compared again.
  static bool MatchPattern(const std::string& pattern, const std::string& path, PathParams& params, size_t from);
  static constexpr size_t kMethods = static_cast<size_t>(Method::kOther) + 1;
  // A route to try: its index in routes_, and whether it is of the bucket's head (matched
  // from past the head) or an open one (from the start).
  struct Candidate {
    size_t route;
    bool of_head;
  };
  using ByMethod = std::array<std::vector<Candidate>, kMethods>;
  struct Bucket {
    std::vector<size_t> routes;  // this head's, in the order added
    // By request method: this head's routes and the open ones that accept it, in the
    // order added (what the first pass of Find tries, without looking at the others).
    ByMethod accepting;
  };
  // The routes of `head` (may be null: a head no route has) and the open ones that accept
  // `method`, in the order added.
  std::vector<Candidate> Accepting(const std::vector<size_t>* head, Method method) const;
  void Index();  // recomputes every `accepting` list (Add, at startup)
  struct HeadHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::vector<Route> routes_;
  // Routes by their first two segments ("/v1/people" for "/v1/people/{id}/swabs"), so that
  // a request is tried only against the routes it can match; `open_` holds the routes whose
  // first two segments have a parameter (tried for every path). Indexes into routes_, in
  // the order the routes were added.
  std::unordered_map<std::string, Bucket, HeadHash, std::equal_to<>> by_head_;
  std::vector<size_t> open_;
  ByMethod open_accepting_;  // for a path whose head no route has
};

}  // namespace caseledger::api
