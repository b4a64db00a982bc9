// One HTTP connection, the transport half of the server (the application half is the
// Dispatcher): the TLS handshake, a fresh parser per request with header and body limits,
// deadlines on every read and write, `Expect: 100-continue`, pipelined requests answered
// in order, event streams, and closing when the server stops. The body is read only after
// the dispatcher admitted the request on its headers, under the limit of the route.
//
// Internal to the server (server.cc).
#pragma once

#include "api/connection_table.h"
#include "api/deadline_sweeper.h"
#include "api/server.h"
#include "api/thread_inbox.h"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <atomic>
#include <functional>
#include <memory>

namespace caseledger::api {

class Dispatcher;

// What every session shares, owned by the server and outliving every session.
struct SessionHost {
  const ServerOptions& options;
  Dispatcher& dispatcher;
  HttpMetrics* metrics = nullptr;
  ConnectionTable& connections;
  const std::atomic<bool>& stopping;
  boost::asio::ssl::context* tls = nullptr;  // null: plain HTTP
  std::function<void()> closed;              // after each admitted connection ends
};

// Registers `socket` in host.connections (a refused one is told 503 or 429 and closed),
// then serves it until the client closes, a deadline passes, the table takes it away
// while idle, or the server stops. Runs on the socket's executor; `sweeper` and `inbox` are
// that executor's thread's (the one enforces a plain connection's deadlines, the other
// brings its commands' answers back from the group commit) and outlive the session's run.
boost::asio::awaitable<void> RunSession(boost::asio::ip::tcp::socket socket, SessionHost& host,
                                        DeadlineSweeper& sweeper, ThreadInbox& inbox);

}  // namespace caseledger::api
