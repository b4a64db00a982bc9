// A request is read in two steps, so that the body is read only for a caller that may
// send it: the header (under the header limit), then the dispatcher's admission (route,
// token, the route's own gate), then the body under the route's limit, after a
// `100 Continue` when the client asked for one. A refusal before the body is answered at
// once; a small body is drained to keep the connection, a large or unknown one is not
// read: the answer goes out, the connection closes, and what the client still sends is
// discarded for a bounded time so that it reads the answer rather than a reset.
#include "api/session.h"

#include "api/api_logger.h"
#include "api/content_coding.h"
#include "api/dispatcher.h"
#include "api/draining_read.h"
#include "api/metrics.h"
#include "api/problem.h"
#include "api/request_framing.h"
#include "api/response_head.h"
#include "api/session_connection.h"
#include "api/sse.h"
#include "api/token_cache.h"

#include <boost/asio.hpp>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/experimental/as_tuple.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <array>

namespace caseledger::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;
using Clock = std::chrono::steady_clock;
constexpr auto kTuple = asio::experimental::as_tuple(use_awaitable);

namespace {

using session_detail::CancelIfIdle;
using session_detail::Connection;
using session_detail::PendingAnswer;
using session_detail::Reuse;

// How long, and how much, a refused client's unread body is discarded after the answer.
constexpr std::chrono::milliseconds kLingerTime{2'000};

Method ToMethod(http::verb v) {
  switch (v) {
    case http::verb::get: return Method::kGet;
    case http::verb::post: return Method::kPost;
    case http::verb::put: return Method::kPut;
    case http::verb::delete_: return Method::kDelete;
    case http::verb::head: return Method::kHead;
    case http::verb::options: return Method::kOptions;
    default: return Method::kOther;
  }
}

Response TooLarge() {
  return Problem(413, "too-large", "Payload too large", "the request body exceeds the limit for this endpoint");
}

template <class Stream>
class Session {
 public:
  Session(std::shared_ptr<Connection<Stream>> conn, SessionHost& host, ConnectionTable::Slot* slot,
          ThreadInbox& inbox)
      : conn_(std::move(conn)), host_(host), slot_(slot), inbox_(inbox) {}

  // Serves requests until the connection should close; sets linger_ when the client may
  // still be sending a body nobody read.
  awaitable<void> Serve();
  bool linger() const { return linger_; }

 private:
  awaitable<bool> WaitForRequest(Clock::time_point now);
  // Parses the header from what the buffer holds (usually all of it, read by
  // WaitForRequest), adding the bytes taken to `taken`: its outcome (no error: the header is
  // done), or nullopt when it needs more bytes (ReadHeader). Not a coroutine: a request
  // whose header is all in the buffer costs no coroutine frame for it.
  std::optional<beast::error_code> ParseBufferedHeader(RequestParser& parser, size_t& taken);
  awaitable<beast::error_code> ReadHeader(RequestParser& parser, size_t taken);
  awaitable<beast::error_code> ReadBody(RequestParser& parser);
  awaitable<beast::error_code> ReadMore(RequestParser& parser);
  // True when the answer went out at once (one non-blocking write), without waiting.
  // `res` is read, not moved: it lives in the caller's frame until the write is done (a
  // Response moved per call was ~160 instructions per query, its move and destruction).
  awaitable<bool> Write(const Response& res, bool keep_alive, unsigned version, bool head = false);
  // Write's first half, not a coroutine: the head written, and on a plain connection one
  // non-blocking writev; true when all went out. Else what is left is written by
  // WriteRest(), while `res` lives.
  bool WriteAtOnce(const Response& res, bool keep_alive, unsigned version, bool head);
  awaitable<void> WriteRest();
  awaitable<void> StreamEvents(Response res, unsigned version);
  // Hands the request to the dispatcher; the answer comes in the returned holder's
  // `answer`, at once (a query's) or later (AwaitAnswer). Not a coroutine: a query's answer
  // costs no coroutine frame. `admitted` is moved from once, into the dispatcher's exchange.
  std::shared_ptr<PendingAnswer> Answer(std::shared_ptr<const Request> req, Admitted& admitted);
  // Until the dispatcher's completion has put the answer in `pending`.
  awaitable<void> AwaitAnswer(const std::shared_ptr<PendingAnswer>& pending);
  // The point the next operations on the connection must end by (Beast's expires_after);
  // what they are: an operation is expired only while it is pending.
  void ExpiresAfter(Clock::duration d) {
    if constexpr (Connection<Stream>::kPlain) {
      conn_->deadline->ExpiresAfter(d);
    } else {
      Lowest().expires_after(d);
    }
  }
  Deadline* Timed() {
    if constexpr (Connection<Stream>::kPlain) {
      return conn_->deadline.get();
    } else {
      return nullptr;  // Beast's stream times its own operations
    }
  }
  // Returns the instant it measured to (now).
  Clock::time_point Observe(std::string_view route, Method method, int status, Clock::time_point start) {
    const auto now = Clock::now();
    if (host_.metrics) {
      host_.metrics->ObserveRequest(route, ToString(method), status, std::chrono::duration<double>(now - start).count());
    }
    return now;
  }
  auto& Lowest() { return beast::get_lowest_layer(conn_->stream); }
  // Plain: a read that emptied the socket spares the next a failing recv (draining_read.h).
  auto ReadSome(asio::mutable_buffer b) {
    if constexpr (Connection<Stream>::kPlain) {
      return conn_->stream.async_read_some(DrainingBuffer(b), kTuple);
    } else {
      return conn_->stream.async_read_some(b, kTuple);
    }
  }

  std::shared_ptr<Connection<Stream>> conn_;
  SessionHost& host_;
  ConnectionTable::Slot* slot_;  // good while the session runs (Close follows it)
  ThreadInbox& inbox_;           // the connection's thread's
  beast::flat_buffer buffer_{16 * 1024};
  std::string head_;  // the answer's head being written (Write), kept for the next answer's
  // What WriteAtOnce left for WriteRest: the head and the body, past what went out.
  beast::buffers_suffix<std::array<asio::const_buffer, 2>> rest_;
  // The last request and its answer's holder, reused by the next request once nobody else
  // holds them (Reuse): a query's are let go before its answer is written; a command's
  // may be held by its exchange until its group commit answers.
  std::shared_ptr<Request> request_;
  std::shared_ptr<PendingAnswer> pending_;
  VerifiedBearer bearer_;  // this connection's last verified token (token_cache.h)
  bool linger_ = false;
};

// Between requests the connection is idle, and the table may take it away to make room;
// the request's deadline starts here, as it did when the header read began.
//
// `now` is the end of the last answer (its latency's end, read just before its write went
// out without waiting), or the session's start: one clock read per request serves the
// latency, the deadline and the idle instant (each was its own read).
template <class Stream>
awaitable<bool> Session<Stream>::WaitForRequest(Clock::time_point now) {
  if constexpr (Connection<Stream>::kPlain) {
    conn_->deadline->ExpiresAt(now + host_.options.read_timeout);
  } else {
    ExpiresAfter(host_.options.read_timeout);
  }
  if (buffer_.size() > 0) co_return true;  // a pipelined request is already here
  if (!host_.connections.SetIdle(slot_, true, now)) co_return false;  // stopping
  conn_->idle = true;
  PendingOperation op(Timed());
  auto [ec, n] = co_await ReadSome(buffer_.prepare(4096));
  conn_->idle = false;
  host_.connections.SetIdle(slot_, false);
  if (ec) co_return false;  // closed, timed out, evicted or cancelled at shutdown
  buffer_.commit(n);
  co_return true;
}

// Beast applies the header limit to what one parse call sees, and fields parsed by an
// earlier call no longer count: a header that arrives in pieces (after the first byte
// WaitForRequest read, or dribbled by a client) would pass any limit. So the header is
// parsed piece by piece and the bytes the parser took are added up here.
//
// What the buffer already holds (usually the whole request, read by WaitForRequest) is
// parsed here, as Beast's read_some_op would, but without an asynchronous operation: that
// posts its completion even when it read nothing, a trip through the scheduler per request.
template <class Stream>
std::optional<beast::error_code> Session<Stream>::ParseBufferedHeader(RequestParser& parser, size_t& taken) {
  while (!parser.is_header_done()) {
    if (buffer_.size() == 0) return std::nullopt;
    beast::error_code ec;
    const size_t used = parser.put(buffer_.data(), ec);
    buffer_.consume(used);
    taken += used;
    if (ec && ec != http::error::need_more) return ec;
    if (taken > host_.options.header_limit) return beast::error_code(http::error::header_limit);
    if (ec) return std::nullopt;  // need_more: the buffer's bytes are all in the parser
  }
  return beast::error_code{};
}

template <class Stream>
awaitable<beast::error_code> Session<Stream>::ReadHeader(RequestParser& parser, size_t taken) {
  while (true) {
    if (auto rec = co_await ReadMore(parser)) co_return rec;
    if (auto parsed = ParseBufferedHeader(parser, taken)) co_return *parsed;
  }
}

// The body, as http::async_read reads it (eagerly, to the end of the message), from the
// buffer first.
template <class Stream>
awaitable<beast::error_code> Session<Stream>::ReadBody(RequestParser& parser) {
  parser.eager(true);
  while (!parser.is_done()) {
    beast::error_code ec;
    if (buffer_.size() > 0) {
      const size_t used = parser.put(buffer_.data(), ec);
      buffer_.consume(used);
      if (ec && ec != http::error::need_more) co_return ec;
      if (!ec) continue;
    }
    if (auto rec = co_await ReadMore(parser)) co_return rec;
  }
  co_return beast::error_code{};
}

// One read into the buffer for a parser that needs more bytes; at the end of the stream,
// end_of_stream or the parser's verdict (Beast's read_some_op).
template <class Stream>
awaitable<beast::error_code> Session<Stream>::ReadMore(RequestParser& parser) {
  const size_t size = beast::read_size(buffer_, 65536);
  if (size == 0) co_return beast::error_code(http::error::buffer_overflow);
  beast::error_code ec;
  size_t n = 0;
  {
    PendingOperation op(Timed());
    std::tie(ec, n) = co_await ReadSome(buffer_.prepare(size));
  }
  buffer_.commit(n);
  if (ec == asio::error::eof) {
    if (!parser.got_some()) co_return beast::error_code(http::error::end_of_stream);
    beast::error_code eof;
    parser.put_eof(eof);  // done, for a body that runs to the close; else partial_message
    co_return eof;
  }
  co_return ec;
}

template <class Stream>
awaitable<void> Session<Stream>::Serve() {
  const ServerOptions& o = host_.options;
  // When the last answer ended: its latency's end if its write went out at once, else read
  // again (a write that waited for the client).
  Clock::time_point ended = Clock::now();
  while (!host_.stopping) {
    if (!co_await WaitForRequest(ended)) co_return;
    const std::shared_ptr<Request> held = Reuse(request_);
    Request& req = *held;
    RequestParser parser(req);  // in the room of the last request's strings
    LimitRequestParser(parser, o, host_.dispatcher.MaxBodyLimit());
    size_t taken = 0;
    const std::optional<beast::error_code> parsed = ParseBufferedHeader(parser, taken);
    beast::error_code ec = parsed ? *parsed : co_await ReadHeader(parser, taken);
    if (ec) {
      // A refused request is answered before the connection closes: the client learns why
      // (431, 413, or 400 for one that cannot be framed, lingering so that what it still
      // sends does not reset the answer away). A client that closed, timed out or was
      // cancelled at shutdown is not.
      if (auto refusal = FramingRefusal(ec)) {
        linger_ = ec != http::error::header_limit;
        co_await Write(*refusal, false, 11);
      }
      co_return;
    }
    const auto start = Clock::now();
    const bool keep_alive = parser.keep_alive();
    const unsigned version = parser.version();
    const bool is_head = parser.method() == http::verb::head;
    req.method = ToMethod(parser.method());
    req.target = std::move(parser.target());  // the parser's copy, not a third one
    req.headers = std::move(parser.headers());  // read into it by the parser (request_framing.h)
    const bool body_pending = !parser.is_done();
    std::string_view expect = req.Header("expect");
    const bool expect_continue = version >= 11 && beast::iequals(expect, "100-continue");
    if (!expect.empty() && !expect_continue && version >= 11) {
      linger_ = body_pending;
      co_await Write(Problem(417, "expectation-failed", "Expectation failed",
                             "the only expectation this server meets is 100-continue"), false, version);
      Observe("unmatched", req.method, 417, start);
      co_return;
    }

    Admitted admitted = host_.dispatcher.Admit(req, &bearer_);
    if (admitted.refusal) {
      // A small body (a command's) is read and dropped to keep the connection; a larger
      // or unknown one, or one the client waits to send, is not read at all.
      auto length = parser.content_length();
      bool close = !keep_alive || host_.stopping;
      if (body_pending) {
        if (!expect_continue && length && *length <= o.command_body_limit) {
          parser.body_limit(o.command_body_limit);
          beast::error_code bec;
          {
            PendingOperation op(Timed());
            std::tie(bec, std::ignore) = co_await http::async_read(conn_->stream, buffer_, parser, kTuple);
          }
          if (bec) co_return;
        } else {
          close = true;
          linger_ = !expect_continue;
        }
      }
      const int status = admitted.refusal->status;
      co_await Write(*admitted.refusal, !close, version, is_head);
      ended = Observe(admitted.route_name, req.method, status, start);
      if (close) co_return;
      continue;
    }

    if (body_pending) {
      auto length = parser.content_length();
      if (length && *length > admitted.body_limit) {
        linger_ = !expect_continue;
        co_await Write(TooLarge(), false, version);
        Observe(admitted.route_name, req.method, 413, start);
        co_return;
      }
      parser.body_limit(admitted.body_limit);
      if (expect_continue) {
        http::response<http::empty_body> go{http::status::continue_, version};
        ExpiresAfter(o.write_timeout);
        beast::error_code wec;
        {
          PendingOperation op(Timed());
          std::tie(wec, std::ignore) = co_await http::async_write(conn_->stream, go, kTuple);
        }
        if (wec) co_return;
        ExpiresAfter(o.read_timeout);
      }
      if (auto bec = co_await ReadBody(parser)) {
        // Above the route's limit (413), or a chunk that cannot be framed (400).
        if (auto refusal = FramingRefusal(bec)) {
          linger_ = true;
          co_await Write(*refusal, false, version);
        }
        co_return;
      }
    }
    req.body = std::move(parser.body());
    const Method method = req.method;
    const std::string_view route_name = admitted.route_name;
    const bool gzip_ok = AcceptsGzip(req.Header("accept-encoding"));
    const std::shared_ptr<PendingAnswer> pending = Answer(held, admitted);
    if (!pending->answer) co_await AwaitAnswer(pending);
    Response& res = *pending->answer;
    if (gzip_ok) CompressAnswer(res);
    ended = Observe(route_name, method, res.status, start);
    if (res.events) {
      co_await StreamEvents(std::move(res), version);
      co_return;
    }
    bool close = res.close || !keep_alive || host_.stopping;
    if (!WriteAtOnce(res, !close, version, is_head)) {
      co_await WriteRest();
      ended = Clock::now();
    }
    pending->answer.reset();  // not held while the connection waits for its next request
    if (close) co_return;
  }
}

template <class Stream>
std::shared_ptr<PendingAnswer> Session<Stream>::Answer(std::shared_ptr<const Request> req, Admitted& admitted) {
  std::shared_ptr<PendingAnswer> pending = Reuse(pending_);
  pending->answer.reset();
  host_.dispatcher.Handle(std::move(req), std::move(admitted), conn_->stream.get_executor(), [pending](Response&& r) {
    pending->answer = std::move(r);
    if (!pending->waiter) return;  // answered at once: the session has not waited
    // On the connection's thread (Handle's contract), so the session goes on here, as
    // asio::dispatch would run it, rather than after one more trip through the scheduler.
    asio::any_completion_handler<void()> waiter = std::move(*pending->waiter);
    pending->waiter.reset();
    auto work = std::move(pending->work);  // released once the session has gone on
    pending->work.reset();
    std::move(waiter)();
  }, &inbox_);
  return pending;
}

template <class Stream>
awaitable<void> Session<Stream>::AwaitAnswer(const std::shared_ptr<PendingAnswer>& pending) {
  if (pending->answer) co_return;
  pending->work.emplace(conn_->stream.get_executor());
  co_await asio::async_initiate<const asio::use_awaitable_t<>&, void()>(
      [&pending](auto handler) { pending->waiter.emplace(std::move(handler)); }, use_awaitable);
}

template <class Stream>
awaitable<bool> Session<Stream>::Write(const Response& res, bool keep_alive, unsigned version, bool head) {
  if (WriteAtOnce(res, keep_alive, version, head)) co_return true;
  co_await WriteRest();
  co_return false;
}

template <class Stream>
bool Session<Stream>::WriteAtOnce(const Response& res, bool keep_alive, unsigned version, bool head) {
  // The head in one string and the body beside it, in one gather write (response_head.h).
  // HEAD: the length of the body a GET would get, and no body.
  const std::string_view body = res.Body();
  head_.clear();
  AppendResponseHead(head_, res, version, keep_alive, body.size());
  const std::array<asio::const_buffer, 2> buffers{asio::buffer(head_),
                                                  head ? asio::const_buffer() : asio::buffer(body)};
  rest_ = beast::buffers_suffix<std::array<asio::const_buffer, 2>>(buffers);
  if constexpr (Connection<Stream>::kPlain) {
    // An answer that fits in the socket's send buffer (nearly all) goes in one
    // non-blocking writev, without an asynchronous write and a trip through the
    // scheduler; the rest of a larger one is written asynchronously under the deadline. A
    // failed write leaves the session to its next read, which fails too.
    beast::error_code ec;
    const size_t sent = conn_->stream.write_some(buffers, ec);
    if (ec && ec != asio::error::would_block) return true;
    rest_.consume(sent);
    if (beast::buffer_bytes(rest_) == 0) return true;
  }
  return false;
}

template <class Stream>
awaitable<void> Session<Stream>::WriteRest() {
  ExpiresAfter(host_.options.write_timeout);
  PendingOperation op(Timed());
  co_await asio::async_write(conn_->stream, rest_, kTuple);
}

// A text/event-stream answer: headers, then the subscriber's frames as they arrive (a
// comment every 15 s keeps proxies from closing it), until the client goes away, the
// hub or the subscriber's own check ends it, or the server stops.
template <class Stream>
awaitable<void> Session<Stream>::StreamEvents(Response res, unsigned version) {
  http::response<http::empty_body> out{http::status::ok, version};
  out.set(http::field::server, "caseledger");
  out.set(http::field::content_type, "text/event-stream");
  out.set(http::field::cache_control, "no-cache");
  for (auto& [name, value] : res.headers) out.insert(name, value);
  out.keep_alive(false);
  http::response_serializer<http::empty_body> sr{out};
  ExpiresAfter(host_.options.write_timeout);
  beast::error_code ec;
  {
    PendingOperation op(Timed());
    std::tie(ec, std::ignore) = co_await http::async_write_header(conn_->stream, sr, kTuple);
  }
  if (ec) co_return;
  // Woken by the hub when a frame is queued (the wake cancels the timer on this executor);
  // otherwise the timer ends a wait after a while, for the keep-alive comment, the
  // subscriber's recheck of the caller's grants and a stopping server.
  auto timer = std::make_shared<asio::steady_timer>(conn_->stream.get_executor());
  res.events->SetWake([weak = std::weak_ptr<asio::steady_timer>(timer), executor = conn_->stream.get_executor()] {
    asio::post(executor, [weak] {
      if (auto t = weak.lock()) t->cancel();
    });
  });
  auto last_write = Clock::now();
  while (!host_.stopping) {
    bool closed = false;
    std::string chunk;
    for (auto& frame : res.events->Drain(&closed)) chunk += frame;
    auto now = Clock::now();
    if (chunk.empty() && now - last_write > std::chrono::seconds(15)) chunk = ": keep-alive\n\n";
    if (!chunk.empty()) {
      ExpiresAfter(host_.options.write_timeout);
      beast::error_code wec;
      {
        PendingOperation op(Timed());
        std::tie(wec, std::ignore) = co_await asio::async_write(conn_->stream, asio::buffer(chunk), kTuple);
      }
      if (wec) co_return;
      last_write = now;
    }
    if (closed) co_return;
    if (res.events->Ready()) continue;  // queued while the chunk was written
    timer->expires_after(std::chrono::milliseconds(250));
    co_await timer->async_wait(kTuple);
  }
}

// After a refusal with a body still coming: stop sending, then read and drop what the
// client sends until it closes, for a bounded time and at most a body's worth of bytes.
awaitable<void> Linger(Connection<tcp::socket>& conn, size_t max_bytes) {
  beast::error_code ec;
  conn.stream.shutdown(tcp::socket::shutdown_send, ec);
  conn.deadline->ExpiresAfter(kLingerTime);
  PendingOperation op(conn.deadline.get());
  std::array<char, 16 * 1024> scratch;
  size_t total = 0;
  while (total < max_bytes) {
    auto [rec, n] = co_await conn.stream.async_read_some(asio::buffer(scratch), kTuple);
    if (rec) break;
    total += n;
  }
}

// The answer to a connection refused for a cap, whole (it is written in one go).
std::string RefusalText(int status, const char* reason) {
  std::string body = "{\"type\":\"https://caseledger.example/problems/too-many-connections\",\"title\":\"Too many connections\",\"status\":" +
                     std::to_string(status) + ",\"detail\":\"too many open connections; try again later\"}";
  return "HTTP/1.1 " + std::to_string(status) + " " + reason +
         "\r\nServer: caseledger\r\nContent-Type: application/problem+json\r\nRetry-After: 1\r\n"
         "Connection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// What a refused connection is told, in one non-blocking write: 503 when the server is
// full, 429 when this client is.
void Refuse(tcp::socket& socket, ConnectionTable::Verdict verdict) {
  static const std::string kServerFull = RefusalText(503, "Service Unavailable");
  static const std::string kClientFull = RefusalText(429, "Too Many Requests");
  const std::string& text = verdict == ConnectionTable::Verdict::kClientFull ? kClientFull : kServerFull;
  beast::error_code ec;
  socket.non_blocking(true, ec);
  if (!ec) socket.send(asio::buffer(text), 0, ec);
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
}

template <class Stream>
awaitable<void> Run(std::shared_ptr<Connection<Stream>> conn, SessionHost& host, ConnectionTable::Slot* slot,
                    ThreadInbox& inbox) {
  Session<Stream> session(conn, host, slot, inbox);
  try {
    if constexpr (Connection<Stream>::kPlain) {
      co_await session.Serve();
      if (session.linger()) {
        co_await Linger(*conn, host.dispatcher.MaxBodyLimit() + 64 * 1024);
      } else {
        beast::error_code ec;
        conn->stream.shutdown(tcp::socket::shutdown_send, ec);
      }
    } else {
      beast::get_lowest_layer(conn->stream).expires_after(host.options.read_timeout);
      auto [ec] = co_await conn->stream.async_handshake(ssl::stream_base::server, kTuple);
      // A failed handshake (not TLS, TLS 1.1 or older, no common cipher) just closes.
      if (!ec) {
        co_await session.Serve();
        beast::get_lowest_layer(conn->stream).expires_after(host.options.write_timeout);
        co_await conn->stream.async_shutdown(kTuple);
      }
    }
  } catch (const std::exception& e) {
    ApiLog()->error("session ended by exception: {}", e.what());
  }
}

}  // namespace

awaitable<void> RunSession(tcp::socket socket, SessionHost& host, DeadlineSweeper& sweeper, ThreadInbox& inbox) {
  beast::error_code ec;
  auto peer = socket.remote_endpoint(ec);
  if (ec) co_return;  // already gone
  const std::string client = peer.address().to_string();
  if (host.tls == nullptr) {
    auto conn = std::make_shared<Connection<tcp::socket>>(std::move(socket));
    conn->stream.non_blocking(true, ec);  // Write's direct writev may not block
    if (ec) co_return;
    EnableDrainingReads(conn->stream);  // if the kernel cannot, reads are tried at once as before
    auto d = host.connections.Open(client, CancelIfIdle(conn));
    for (auto& evict : d.evict) evict();
    if (d.verdict != ConnectionTable::Verdict::kAdmitted) {
      Refuse(conn->stream, d.verdict);
      co_return;
    }
    // As Beast's stream does at a timeout: close the socket, failing what is pending. The
    // deadline lives in the connection, so the pointer is good whenever it fires.
    conn->deadline = std::make_unique<Deadline>(sweeper, [c = conn.get()] {
      beast::error_code cec;
      c->stream.close(cec);
    });
    co_await Run(conn, host, d.slot, inbox);
    host.connections.Close(d.id);
  } else {
    auto conn = std::make_shared<Connection<beast::ssl_stream<beast::tcp_stream>>>(std::move(socket), *host.tls);
    auto d = host.connections.Open(client, CancelIfIdle(conn));
    for (auto& evict : d.evict) evict();
    if (d.verdict != ConnectionTable::Verdict::kAdmitted) {
      beast::get_lowest_layer(conn->stream).socket().close(ec);
      co_return;
    }
    co_await Run(conn, host, d.slot, inbox);
    host.connections.Close(d.id);
  }
  if (host.closed) host.closed();
}

}  // namespace caseledger::api
