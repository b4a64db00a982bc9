// What a session (session.cc) keeps of its connection: the stream and its idle flag, the
// holder its answers come in, how it reuses what its last request left, and the
// connection table's way to take it away while idle.
//
// Internal to session.cc. Touched only on the connection's own io_context thread but where
// said otherwise.
#pragma once

#include "api/connection_table.h"
#include "api/deadline_sweeper.h"
#include "api/http.h"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/stream_traits.hpp>

#include <atomic>
#include <memory>
#include <optional>
#include <type_traits>

namespace caseledger::api::session_detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

// The connection's stream and what the table's cancel may look at. Touched only on the
// connection's own io_context thread. A plain connection is a bare socket whose deadlines
// its thread's sweeper enforces (deadline_sweeper.h); a TLS one keeps Beast's tcp_stream
// and its timer.
template <class Stream>
struct Connection {
  static constexpr bool kPlain = std::is_same_v<Stream, tcp::socket>;
  Stream stream;
  bool idle = false;  // waiting for the next request to begin
  std::unique_ptr<Deadline> deadline;  // plain connections only
  template <class... A>
  explicit Connection(A&&... args) : stream(std::forward<A>(args)...) {}
  tcp::socket& Socket() {
    if constexpr (kPlain) {
      return stream;
    } else {
      return beast::get_lowest_layer(stream).socket();
    }
  }
  // The error_code overload: a timeout may have closed the socket already (EBADF).
  void Cancel() {
    beast::error_code ec;
    Socket().cancel(ec);
  }
};

// An answer that may come later: the dispatcher's completion stores it and resumes the
// session if it waits. Both run on the connection's thread. The session waits by leaving
// its coroutine's completion handler here (a query's answer comes at once: no wait); a
// steady_timer per command, cancelled by the answer, cost a service look-up, the reactor's
// lock and timer heap on the wait and again on the cancellation.
struct PendingAnswer {
  std::optional<Response> answer;
  std::optional<asio::any_completion_handler<void()>> waiter;
  // While the session waits: keeps its io_context running, as a pending wait did.
  std::optional<asio::executor_work_guard<asio::any_io_executor>> work;
};

// `kept` (made first when there is none) for another use, when nobody else holds it (the
// dispatcher's exchange for a command that waits for its group commit, which may end on
// another thread: the fence orders that thread's last use before ours); else a new one
// in its place. What it holds is the caller's to clear or overwrite.
template <class T>
std::shared_ptr<T> Reuse(std::shared_ptr<T>& kept) {
  if (kept && kept.use_count() == 1) {
    std::atomic_thread_fence(std::memory_order_acquire);
    return kept;
  }
  kept = std::make_shared<T>();
  return kept;
}

// The table's way to take an idle connection away: on the connection's own thread, and
// only if it is still idle there (it may have begun a request meanwhile).
template <class Stream>
ConnectionTable::Cancel CancelIfIdle(const std::shared_ptr<Connection<Stream>>& conn) {
  std::weak_ptr<Connection<Stream>> weak = conn;
  auto executor = conn->stream.get_executor();
  return [weak, executor] {
    asio::post(executor, [weak] {
      if (auto c = weak.lock(); c && c->idle) c->Cancel();
    });
  };
}

}  // namespace caseledger::api::session_detail
