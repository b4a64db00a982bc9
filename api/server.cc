// Listener and sessions, modelled on Beast's advanced_server: a fresh parser per request
// with header and body limits, a deadline on every read and write, sequential handling of
// pipelined requests, and a clean shutdown on SIGINT/SIGTERM.
#include "api/server.h"

#include "api/api_logger.h"
#include "api/command_pool.h"
#include "api/metrics.h"
#include "api/problem.h"
#include "api/sse.h"

#include <boost/asio.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/experimental/as_tuple.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

namespace caseledger::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;
constexpr auto kTuple = asio::experimental::as_tuple(use_awaitable);

namespace {

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
  return Problem(413, "too-large", "Payload too large",
                 "the request body exceeds the limit for this endpoint");
}

bool IsBatchTarget(beast::string_view target) {
  return target.starts_with("/v1/results:batch");
}

// TLS 1.2 and later, with the server's certificate chain and key; an error message when
// the files do not load or do not match.
std::optional<std::string> ConfigureTls(ssl::context& ctx, const ServerOptions& o) {
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                  ssl::context::single_dh_use);
  if (SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION) != 1) {
    return "cannot require TLS 1.2";
  }
  beast::error_code ec;
  ctx.use_certificate_chain_file(o.tls_cert_path, ec);
  if (ec) return "cannot load TLS certificate " + o.tls_cert_path + ": " + ec.message();
  ctx.use_private_key_file(o.tls_key_path, ssl::context::pem, ec);
  if (ec) return "cannot load TLS key " + o.tls_key_path + ": " + ec.message();
  if (SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
    return "TLS key " + o.tls_key_path + " does not match the certificate";
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> ValidateListenOptions(const ServerOptions& options) {
  beast::error_code ec;
  auto address = asio::ip::make_address(options.host, ec);
  if (ec) return "invalid listen address " + options.host;
  if (options.tls_cert_path.empty() != options.tls_key_path.empty()) {
    return "TLS needs both a certificate and a key";
  }
  if (options.tls_cert_path.empty() && !address.is_loopback() && !options.insecure) {
    return "plain HTTP listens on loopback only: give a TLS certificate and key, or insecure";
  }
  return std::nullopt;
}

class HttpServer::Impl {
 public:
  Impl(ServerOptions options, const Router& router, Authenticator auth, PositionSource positions,
       HttpMetrics* metrics)
      : options_(std::move(options)),
        router_(router),
        auth_(std::move(auth)),
        positions_(std::move(positions)),
        metrics_(metrics),
        iocs_(MakeContexts(std::max(1, options_.io_threads))),
        ioc_(*iocs_.front()),
        tls_(ssl::context::tls_server),
        acceptor_(ioc_),
        commands_(options_.command_threads) {
    // The other contexts have no work until a connection lands on them: keep them running.
    for (size_t i = 1; i < iocs_.size(); ++i) idle_guards_.emplace_back(iocs_[i]->get_executor());
  }

  std::optional<uint16_t> Start(std::string* error) {
    if (auto bad = ValidateListenOptions(options_)) {
      *error = *bad;
      return std::nullopt;
    }
    use_tls_ = !options_.tls_cert_path.empty();
    if (use_tls_) {
      if (auto bad = ConfigureTls(tls_, options_)) {
        *error = *bad;
        return std::nullopt;
      }
    }
    beast::error_code ec;
    auto address = asio::ip::make_address(options_.host, ec);
    tcp::endpoint endpoint(address, options_.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      *error = "cannot listen on " + options_.host + ":" + std::to_string(options_.port) + ": " +
               ec.message();
      return std::nullopt;
    }
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(ioc_, Accept(), asio::detached);
    return port_;
  }

  void Run(bool handle_signals) {
    asio::signal_set signals(ioc_);
    if (handle_signals) {
      signals.add(SIGINT);
      signals.add(SIGTERM);
      signals.async_wait([this](beast::error_code ec, int sig) {
        if (!ec) {
          ApiLog()->info("signal {}: stopping", sig);
          BeginStop();
        }
      });
    }
    std::vector<std::thread> threads;
    for (size_t i = 1; i < iocs_.size(); ++i) threads.emplace_back([this, i] { iocs_[i]->run(); });
    ioc_.run();
    for (auto& t : threads) t.join();
    commands_.Join();
  }

  void Stop() { asio::post(ioc_, [this] { BeginStop(); }); }

 private:
  // One io_context per I/O thread, each run by its own thread only: a connection lives on
  // one of them (round robin), so its handlers need no strand and never wake another
  // thread, and the contexts share nothing per request.
  static std::vector<std::unique_ptr<asio::io_context>> MakeContexts(int n) {
    std::vector<std::unique_ptr<asio::io_context>> out;
    for (int i = 0; i < n; ++i) out.push_back(std::make_unique<asio::io_context>(1));
    return out;
  }

  // What shutdown needs of a connection, whatever its stream (plain or TLS).
  struct ConnectionBase {
    // Between reading a request and writing its answer. Only touched on the connection's
    // own io_context thread (the session and BeginStop's posted check both run there).
    bool busy = false;
    virtual ~ConnectionBase() = default;
    virtual asio::any_io_executor executor() = 0;
    virtual void Cancel() = 0;
  };
  template <class Stream>
  struct Connection final : ConnectionBase {
    Stream stream;
    template <class... A>
    explicit Connection(A&&... args) : stream(std::forward<A>(args)...) {}
    asio::any_io_executor executor() override { return stream.get_executor(); }
    // The error_code overload: a read timeout may have closed the socket already (EBADF),
    // and the throwing one then aborted the whole server on SIGTERM.
    void Cancel() override {
      beast::error_code ec;
      beast::get_lowest_layer(stream).socket().cancel(ec);
    }
  };
  using PlainConnection = Connection<beast::tcp_stream>;
  using TlsConnection = Connection<beast::ssl_stream<beast::tcp_stream>>;

  // Runs on the io_context: stop accepting, wake idle connections so they close, and
  // give busy ones the grace period before the io_context is stopped.
  void BeginStop() {
    if (stopping_.exchange(true)) return;
    beast::error_code ec;
    acceptor_.close(ec);
    std::lock_guard l(mu_);
    for (auto* c : connections_) {
      asio::post(c->executor(), [c, this] {
        std::lock_guard l2(mu_);
        if (connections_.count(c) && !c->busy) c->Cancel();
      });
    }
    idle_guards_.clear();  // the other contexts end once their connections have
    grace_ = std::make_unique<asio::steady_timer>(ioc_, options_.shutdown_grace);
    grace_->async_wait([this](beast::error_code ec) {
      if (ec == asio::error::operation_aborted) return;  // every connection finished in time
      ApiLog()->warn("shutdown grace period over; stopping");
      for (auto& ioc : iocs_) ioc->stop();
    });
    MaybeFinish();
  }

  // Called with mu_ held.
  void MaybeFinish() {
    if (stopping_ && connections_.empty() && grace_) grace_->cancel();
  }

  awaitable<void> Accept() {
    for (;;) {
      asio::io_context& home = *iocs_[next_context_++ % iocs_.size()];
      auto [ec, socket] = co_await acceptor_.async_accept(home, kTuple);
      if (ec) {
        if (stopping_) co_return;
        ApiLog()->warn("accept: {}", ec.message());
        continue;
      }
      socket.set_option(tcp::no_delay(true), ec);
      auto executor = socket.get_executor();
      asio::co_spawn(executor, Session(std::move(socket)), asio::detached);
    }
  }

  awaitable<void> Session(tcp::socket socket) {
    if (use_tls_) {
      TlsConnection conn(std::move(socket), tls_);
      co_await Run(conn);
    } else {
      PlainConnection conn(std::move(socket));
      co_await Run(conn);
    }
  }

  // Serves one connection (after the TLS handshake, for TLS), registered for shutdown
  // while it lives.
  template <class Stream>
  awaitable<void> Run(Connection<Stream>& conn) {
    {
      std::lock_guard l(mu_);
      connections_.insert(&conn);
    }
    try {
      if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
        co_await Serve(conn);
        beast::error_code ec;
        conn.stream.socket().shutdown(tcp::socket::shutdown_send, ec);
      } else {
        beast::get_lowest_layer(conn.stream).expires_after(options_.read_timeout);
        auto [ec] = co_await conn.stream.async_handshake(ssl::stream_base::server, kTuple);
        // A failed handshake (not TLS, TLS 1.1 or older, no common cipher) just closes.
        if (!ec) {
          co_await Serve(conn);
          beast::get_lowest_layer(conn.stream).expires_after(options_.write_timeout);
          co_await conn.stream.async_shutdown(kTuple);
        }
      }
    } catch (const std::exception& e) {
      ApiLog()->error("session ended by exception: {}", e.what());
    }
    std::lock_guard l(mu_);
    connections_.erase(&conn);
    MaybeFinish();
  }

  template <class Stream>
  awaitable<void> Serve(Connection<Stream>& conn) {
    beast::flat_buffer buffer(16 * 1024);
    while (!stopping_) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(options_.header_limit));
      // Beast checks Content-Length against the body limit while parsing the header, so the
      // header is read under the largest limit and the per-endpoint one applied after it.
      parser.body_limit(std::max(options_.command_body_limit, options_.batch_body_limit));
      beast::get_lowest_layer(conn.stream).expires_after(options_.read_timeout);
      auto [ec, n] = co_await http::async_read_header(conn.stream, buffer, parser, kTuple);
      (void)n;
      if (ec == http::error::header_limit) {
        co_await Write(conn, Problem(431, "headers-too-large", "Request header fields too large",
                                     "the request headers exceed the limit"), false, 11);
        co_return;
      }
      if (ec == http::error::body_limit) {
        co_await Write(conn, TooLarge(), false, 11);
        co_return;
      }
      if (ec) co_return;  // closed, timed out (slow client) or cancelled at shutdown
      conn.busy = true;
      const size_t limit = IsBatchTarget(parser.get().target()) ? options_.batch_body_limit
                                                                 : options_.command_body_limit;
      if (parser.content_length() && *parser.content_length() > limit) {
        co_await Write(conn, TooLarge(), false, 11);
        co_return;
      }
      parser.body_limit(limit);
      if (!parser.is_done()) {
        auto [ec2, n2] = co_await http::async_read(conn.stream, buffer, parser, kTuple);
        (void)n2;
        if (ec2 == http::error::body_limit) {
          co_await Write(conn, TooLarge(), false, 11);
          co_return;
        }
        if (ec2) co_return;
      }
      auto start = std::chrono::steady_clock::now();
      http::request<http::string_body> msg = parser.release();
      bool keep_alive = msg.keep_alive();
      unsigned version = msg.version();
      bool head = msg.method() == http::verb::head;
      Request req;
      req.method = ToMethod(msg.method());
      req.target = std::string(msg.target());
      for (const auto& field : msg) {
        std::string name(field.name_string());
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        req.headers.emplace_back(std::move(name), std::string(field.value()));
      }
      req.body = std::move(msg.body());
      std::string_view route_name = "unmatched";
      Response res = co_await Dispatch(conn.stream.get_executor(), req, route_name);
      if (metrics_) {
        metrics_->ObserveRequest(route_name, ToString(req.method), res.status,
                                 std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      }
      if (res.events) {
        co_await StreamEvents(conn, std::move(res), version);
        co_return;
      }
      bool close = res.close || !keep_alive || stopping_;
      co_await Write(conn, std::move(res), !close, version, head);
      conn.busy = false;
      if (close) co_return;
    }
  }

  // Sets `route_name` to the matched route's pattern (the router outlives every request).
  awaitable<Response> Dispatch(asio::any_io_executor executor, Request& req, std::string_view& route_name) {
    if (!ParseTarget(req.target, req.path, req.query)) {
      co_return BadField("target", "the request target is malformed");
    }
    Router::Match match = router_.Find(req.method, req.path);
    if (!match.route) {
      if (match.status == 405) {
        Response r = Problem(405, "method-not-allowed", "Method not allowed",
                             std::string(ToString(req.method)) + " is not allowed on " + req.path);
        r.Set("Allow", match.allow);
        co_return r;
      }
      co_return Problem(404, "not-found", "Not found", "no such resource: " + req.path);
    }
    const Route& route = *match.route;
    route_name = route.pattern;
    RouteRequest rr{req, std::move(match.params), {}};
    if (route.authenticated) {
      std::string_view auth = req.Header("authorization");
      std::string error = "a bearer token is required";
      std::optional<Principal> principal;
      if (auth.size() > 7 && (auth.substr(0, 7) == "Bearer " || auth.substr(0, 7) == "bearer ")) {
        principal = auth_(auth.substr(7), &error);
      }
      if (!principal) {
        Response r = Problem(401, "unauthorized", "Unauthorized", error);
        r.Set("WWW-Authenticate", "Bearer realm=\"caseledger\"");
        co_return r;
      }
      rr.principal = std::move(*principal);
    }

    auto deadline = std::chrono::steady_clock::now() + options_.default_wait;
    if (auto wait = req.Query("timeout_ms")) {
      char* end = nullptr;
      long ms = std::strtol(wait->c_str(), &end, 10);
      if (end && *end == '\0' && ms >= 0) {
        deadline = std::chrono::steady_clock::now() +
                   std::min(std::chrono::milliseconds(ms), options_.max_wait);
      }
    }
    std::optional<asio::steady_timer> timer;  // only for a read that waits for a position
    for (;;) {
      Response res;
      if (route.kind == RouteKind::kCommand) {
        // Appends block on the WAL sync: run them on the command pool so that many can
        // wait in the same group commit; the answer is posted back to this connection's
        // io_context, where the session resumes.
        res = co_await asio::async_initiate<decltype(use_awaitable), void(Response)>(
            [this, &route, &rr](auto handler) {
              // std::function needs a copyable job; the handler itself is move-only.
              auto h = std::make_shared<decltype(handler)>(std::move(handler));
              commands_.Submit([this, &route, &rr, h] {
                Response done = Invoke(route, rr);
                asio::post(asio::append(std::move(*h), std::move(done)));
              });
            },
            use_awaitable);
      } else {
        res = Invoke(route, rr);
      }
      if (res.wait_for_position == 0) co_return res;
      if (positions_() >= res.wait_for_position) continue;  // reached meanwhile: answer now
      if (std::chrono::steady_clock::now() >= deadline) {
        Response r = Problem(503, "not-yet-consistent", "Views not yet consistent",
                             "the views have not reached position " +
                                 std::to_string(res.wait_for_position) + " in time");
        r.Set("Retry-After", "1");
        r.Set("X-Position", std::to_string(positions_()));
        co_return r;
      }
      if (!timer) timer.emplace(executor);
      timer->expires_after(std::chrono::milliseconds(2));
      co_await timer->async_wait(kTuple);
    }
  }

  Response Invoke(const Route& route, const RouteRequest& rr) {
    try {
      return route.handler(rr);
    } catch (const std::exception& e) {
      ApiLog()->error("{} {}: {}", ToString(rr.http.method), route.pattern, e.what());
      return Problem(500, "internal", "Internal error", "the server could not complete the request");
    }
  }

  template <class Stream>
  awaitable<void> Write(Connection<Stream>& conn, Response res, bool keep_alive, unsigned version,
                        bool head = false) {
    http::response<http::string_body> out{static_cast<http::status>(res.status), version};
    out.set(http::field::server, "caseledger");
    if (!res.content_type.empty()) out.set(http::field::content_type, res.content_type);
    for (auto& [name, value] : res.headers) out.insert(name, value);
    out.keep_alive(keep_alive);
    beast::get_lowest_layer(conn.stream).expires_after(options_.write_timeout);
    if (head) {
      // HEAD: the length of the body a GET would get, and no body.
      out.content_length(res.body.size());
      http::response_serializer<http::string_body> sr{out};
      co_await http::async_write_header(conn.stream, sr, kTuple);
    } else {
      out.body() = std::move(res.body);
      out.prepare_payload();
      co_await http::async_write(conn.stream, out, kTuple);
    }
  }

  // A text/event-stream answer: headers, then the subscriber's frames as they arrive (a
  // comment every 15 s keeps proxies from closing it), until the client goes away, the
  // hub drops the subscriber, or the server stops. The body ends with the connection.
  template <class Stream>
  awaitable<void> StreamEvents(Connection<Stream>& conn, Response res, unsigned version) {
    http::response<http::empty_body> out{http::status::ok, version};
    out.set(http::field::server, "caseledger");
    out.set(http::field::content_type, "text/event-stream");
    out.set(http::field::cache_control, "no-cache");
    for (auto& [name, value] : res.headers) out.insert(name, value);
    out.keep_alive(false);
    http::response_serializer<http::empty_body> sr{out};
    beast::get_lowest_layer(conn.stream).expires_after(options_.write_timeout);
    auto [ec, n] = co_await http::async_write_header(conn.stream, sr, kTuple);
    (void)n;
    if (ec) co_return;
    asio::steady_timer timer(conn.stream.get_executor());
    auto last_write = std::chrono::steady_clock::now();
    while (!stopping_) {
      bool closed = false;
      std::string chunk;
      for (auto& frame : res.events->Drain(&closed)) chunk += frame;
      auto now = std::chrono::steady_clock::now();
      if (chunk.empty() && now - last_write > std::chrono::seconds(15)) chunk = ": keep-alive\n\n";
      if (!chunk.empty()) {
        beast::get_lowest_layer(conn.stream).expires_after(options_.write_timeout);
        auto [wec, wn] = co_await asio::async_write(conn.stream, asio::buffer(chunk), kTuple);
        (void)wn;
        if (wec) co_return;
        last_write = now;
      }
      if (closed) co_return;
      timer.expires_after(std::chrono::milliseconds(50));
      co_await timer.async_wait(kTuple);
    }
  }

  ServerOptions options_;
  const Router& router_;
  Authenticator auth_;
  PositionSource positions_;
  HttpMetrics* metrics_;
  std::vector<std::unique_ptr<asio::io_context>> iocs_;
  asio::io_context& ioc_;  // the first: acceptor, signals, shutdown timer
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> idle_guards_;
  size_t next_context_ = 0;  // only touched by Accept(), on ioc_
  ssl::context tls_;
  bool use_tls_ = false;
  tcp::acceptor acceptor_;
  CommandPool commands_;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::set<ConnectionBase*> connections_;
  std::unique_ptr<asio::steady_timer> grace_;
};

HttpServer::HttpServer(ServerOptions options, const Router& router, Authenticator auth,
                       PositionSource positions, HttpMetrics* metrics)
    : impl_(std::make_unique<Impl>(std::move(options), router, std::move(auth),
                                   std::move(positions), metrics)) {}
HttpServer::~HttpServer() = default;
std::optional<uint16_t> HttpServer::Start(std::string* error) { return impl_->Start(error); }
void HttpServer::Run(bool handle_signals) { impl_->Run(handle_signals); }
void HttpServer::Stop() { impl_->Stop(); }

}  // namespace caseledger::api
