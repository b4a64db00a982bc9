// The HTTP server (Boost.Beast over Asio, C++20 coroutines): listener (server.cc) ->
// session (session.cc: limits, I/O, TLS, timeouts) -> dispatcher (dispatcher.cc: route,
// auth, command pool, consistency) -> route handler. Beast stays in the .cc files; this
// header is cheap to include.
#pragma once

#include "api/http.h"
#include "api/router.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace caseledger::api {

class HttpMetrics;
class PositionWaiters;

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0: pick a free port (tests)
  int io_threads = 2;
  // Commands decide here and hand their append to the group commit without waiting for it;
  // batch routes and grants still wait for theirs on these threads.
  int command_threads = 64;
  size_t header_limit = 8 * 1024;
  size_t command_body_limit = 64 * 1024;  // a route may allow more (Route::body_limit)
  // Open connections at most; 0: half the descriptor limit (RLIMIT_NOFILE), 16 to 10,000.
  // At the cap the longest idle connection is closed to make room, else the new one is
  // answered 503 and closed.
  size_t max_connections = 0;
  // Open connections per client address at most (0: no cap of its own); past it the
  // client's own idle connections make room, else 429.
  size_t max_connections_per_client = 256;
  std::chrono::milliseconds read_timeout{10'000};  // a whole request, headers and body
  std::chrono::milliseconds write_timeout{10'000};
  std::chrono::milliseconds default_wait{2'000};   // min_position
  std::chrono::milliseconds max_wait{10'000};
  // Notified by the views after every published batch: a read with min_position waits
  // for it (null: such a read looks again every 2 ms). Outlives the server.
  PositionWaiters* position_waiters = nullptr;
  std::chrono::milliseconds shutdown_grace{10'000};
  // HTTPS: a PEM certificate chain and its PEM private key, both or neither. TLS 1.2 and
  // later only; the routes do not know whether a request came over TLS.
  std::string tls_cert_path;
  std::string tls_key_path;
  // Allows plain HTTP on a non-loopback address (tokens and health data in clear).
  bool insecure = false;
};

// Why these options must not be served, or nullopt: an unparsable host, only one of the
// TLS files, or plain HTTP on a non-loopback address without `insecure`. Start() checks it
// too, before binding anything.
std::optional<std::string> ValidateListenOptions(const ServerOptions& options);

struct VerifiedBearer;  // api/token_cache.h

// Checks "Authorization: Bearer ..."; nullopt with `error` set when it is missing/invalid.
// `last` is the connection's last verified token (VerifiedTokens::Subject keeps it), or
// null: a repeat of it is answered without the shared cache, under the same checks. The
// grants are the subject's as of this request either way.
using Authenticator =
    std::function<std::optional<Principal>(std::string_view bearer, std::string* error, VerifiedBearer* last)>;
// The position up to which the answers of read routes are current.
using PositionSource = std::function<uint64_t()>;

class HttpServer {
 public:
  HttpServer(ServerOptions options, const Router& router, Authenticator auth,
             PositionSource positions, HttpMetrics* metrics);
  ~HttpServer();

  // Binds and starts accepting; returns the bound port or an error message.
  std::optional<uint16_t> Start(std::string* error);
  // Serves until Stop() or SIGINT/SIGTERM (when `handle_signals`), then finishes in-flight
  // requests within the grace period and returns.
  void Run(bool handle_signals);
  // From now on SIGINT/SIGTERM stop the server as Stop() does (for a server already
  // running without them: `caseledger serve` answers /readyz while its views catch up, and
  // a signal meanwhile ends the process as before it listened). Thread-safe; returns once
  // the signals are registered: call it from another thread than the server's, while Run
  // runs.
  void HandleSignals();
  // Thread-safe: stop accepting, finish what is in flight, make Run() return.
  void Stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace caseledger::api
