// The application side of the HTTP server: route, authentication, the command pool and
// read consistency (min_position). It knows nothing of sockets, parsers or TLS; the
// session (session.h) hands it a request in two steps, as Beast's advanced server hands a
// request to handle_request:
//
//   1. Admit(headers)      on the headers alone: the route, the caller (401), the route's
//                          own gate (403) and how large a body the route reads;
//   2. Handle(admitted)    once the body is in: the answer, through a completion that
//                          may run later (a command when its group commit is synced, a read
//                          that waits for a position when the views reach it, a
//                          Route::async_handler when it responds),
//                          so a handler completes asynchronously without the session
//                          knowing how.
//
// Internal to the server (server.cc and session.cc include it).
#pragma once

#include "api/http.h"
#include "api/router.h"
#include "api/server.h"

#include <boost/asio/any_io_executor.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace caseledger::api {

class CommandPool;
class ThreadInbox;

// What Admit() decided on the headers.
struct Admitted {
  // Set: answer this instead of reading the body (401, 403, 404, 405, 400 for the target).
  std::optional<Response> refusal;
  size_t body_limit = 0;                 // the largest body the route reads
  std::string_view route_name = "unmatched";  // the route's pattern (the router outlives it)
  const Route* route = nullptr;
  PathParams params;
  Principal principal;
};

// Called exactly once with the answer, on the executor given to Handle(). By reference:
// std::function's by-value argument was two moves of the Response per call.
using Completion = std::function<void(Response&&)>;

class Dispatcher {
 public:
  // `router`, `metrics` and what `auth`/`positions` refer to outlive the dispatcher.
  Dispatcher(const ServerOptions& options, const Router& router, Authenticator auth, PositionSource positions);
  ~Dispatcher();

  // The largest body any route reads (the session reads headers under it).
  size_t MaxBodyLimit() const { return max_body_limit_; }

  // `req` holds method, target and headers (no body yet); sets req.path and req.query.
  // `last`: the connection's last verified token, handed to the authenticator (null: none
  // kept). Thread-safe (but for `last`, the caller's own).
  Admitted Admit(Request& req, VerifiedBearer* last = nullptr) const;

  // Answers an admitted request (`req` now with its body) and calls `done` on `executor`.
  // `req` and `admitted` are kept alive until then. `inbox`, when given, is the one of
  // `executor`'s thread (thread_inbox.h): a deferred answer's work (a command's, once its
  // group commit is synced) comes back through it, batched with the others of its group.
  void Handle(std::shared_ptr<const Request> req, Admitted&& admitted, boost::asio::any_io_executor executor,
              Completion done, ThreadInbox* inbox = nullptr);

  // Runs what the command pool holds, then ends its threads (at shutdown, once).
  void Join();

 private:
  struct Exchange;
  void Run(std::shared_ptr<Exchange> x);
  void Finish(std::shared_ptr<Exchange> x, Response res);
  void Settle(std::shared_ptr<Exchange> x, Response res);
  Response Invoke(const Route& route, const RouteRequest& rr) const;
  void InvokeAsync(std::shared_ptr<Exchange> x);

  const ServerOptions& options_;
  const Router& router_;
  Authenticator auth_;
  PositionSource positions_;
  size_t max_body_limit_ = 0;
  std::unique_ptr<CommandPool> commands_;
};

}  // namespace caseledger::api
