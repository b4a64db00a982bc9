#include "api/jwks_source.h"

#include "api/api_logger.h"
#include "api/jwks.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace caseledger::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

bool LoopbackHost(const std::string& host) {
  if (host == "localhost") return true;
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  return !ec && address.is_loopback();
}

struct Target {
  bool tls = false;
  std::string host, port, path;
};

std::optional<Target> ParseUrl(const std::string& url, std::string* why) {
  auto u = boost::urls::parse_absolute_uri(url);
  if (!u) {
    *why = "not an absolute URL: " + url;
    return std::nullopt;
  }
  Target t;
  if (u->scheme() == "https") {
    t.tls = true;
  } else if (u->scheme() != "http") {
    *why = "not an http(s) URL: " + url;
    return std::nullopt;
  }
  t.host = u->host_address();  // [::1] comes without its brackets
  if (t.host.empty()) {
    *why = "no host in " + url;
    return std::nullopt;
  }
  t.port = u->has_port() ? std::string(u->port()) : (t.tls ? "443" : "80");
  t.path = std::string(u->encoded_target());
  if (t.path.empty()) t.path = "/";
  return t;
}

template <class Stream>
std::optional<std::string> Exchange(Stream& stream, const Target& t, size_t max_bytes, std::string* error) {
  http::request<http::empty_body> req{http::verb::get, t.path, 11};
  req.set(http::field::host, t.host);
  req.set(http::field::accept, "application/jwk-set+json, application/json");
  req.set(http::field::user_agent, "caseledger");
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(max_bytes);
  http::read(stream, buffer, parser);
  auto& res = parser.get();
  if (res.result() != http::status::ok) {
    *error = "answered " + std::to_string(res.result_int());
    return std::nullopt;
  }
  return std::move(res.body());
}

}  // namespace

bool AcceptableJwksUri(const std::string& uri, std::string* why) {
  auto t = ParseUrl(uri, why);
  if (!t) return false;
  if (!t->tls && !LoopbackHost(t->host)) {
    *why = "the JWK Set must come over https (plain http only from a loopback address): " + uri;
    return false;
  }
  return true;
}

std::optional<std::string> HttpGet(const std::string& url, std::chrono::seconds timeout, size_t max_bytes,
                                   std::string* error) {
  std::string why;
  auto t = ParseUrl(url, &why);
  if (!t) {
    *error = why;
    return std::nullopt;
  }
  try {
    asio::io_context io;
    asio::ip::tcp::resolver resolver(io);
    auto endpoints = resolver.resolve(t->host, t->port);
    if (!t->tls) {
      beast::tcp_stream stream(io);
      stream.expires_after(timeout);
      stream.connect(endpoints);
      auto body = Exchange(stream, *t, max_bytes, &why);
      if (!body) *error = url + " " + why;
      boost::system::error_code ignored;
      stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
      return body;
    }
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.set_default_verify_paths();
    ctx.set_verify_mode(asio::ssl::verify_peer);
    beast::ssl_stream<beast::tcp_stream> stream(io, ctx);
    if (!SSL_set_tlsext_host_name(stream.native_handle(), t->host.c_str())) {
      *error = url + ": cannot set the TLS server name";
      return std::nullopt;
    }
    stream.set_verify_callback(asio::ssl::host_name_verification(t->host));
    beast::get_lowest_layer(stream).expires_after(timeout);
    beast::get_lowest_layer(stream).connect(endpoints);
    stream.handshake(asio::ssl::stream_base::client);
    auto body = Exchange(stream, *t, max_bytes, &why);
    if (!body) *error = url + " " + why;
    boost::system::error_code ignored;
    stream.shutdown(ignored);
    return body;
  } catch (const boost::system::system_error& e) {
    *error = url + ": " + e.code().message();
    return std::nullopt;
  }
}

struct JwksSource::State {
  JwksSourceOptions options;
  KeysCallback on_keys;
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  bool asked = false;
  std::chrono::steady_clock::time_point last_fetch;
  std::atomic<uint64_t> fetches{0}, failures{0};
  std::thread thread;

  // One fetch; the keys go to on_keys when the set is good.
  bool Fetch(std::string* error) {
    last_fetch = std::chrono::steady_clock::now();
    auto body = HttpGet(options.uri, options.timeout, options.max_bytes, error);
    std::optional<std::vector<JwtPublicKey>> keys;
    if (body) {
      keys = ParseJwks(*body, error);
      if (!keys) *error = options.uri + ": " + *error;
    }
    if (!keys) {
      failures.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    fetches.fetch_add(1, std::memory_order_relaxed);
    on_keys(std::move(*keys));
    return true;
  }

  void Loop() {
    std::unique_lock lock(mu);
    while (!stop) {
      const auto next = last_fetch + options.refresh;
      cv.wait_until(lock, next, [&] { return stop || asked; });
      if (stop) break;
      if (asked && std::chrono::steady_clock::now() < last_fetch + options.min_interval) {
        // Too soon after the last fetch: wait out the interval, then fetch.
        cv.wait_until(lock, last_fetch + options.min_interval, [&] { return stop; });
        if (stop) break;
      } else if (!asked && std::chrono::steady_clock::now() < next) {
        continue;  // spurious wake-up
      }
      asked = false;
      lock.unlock();
      std::string error;
      if (!Fetch(&error)) ApiLog()->warn("identity provider keys not refreshed: {}", error);
      lock.lock();
    }
  }
};

JwksSource::JwksSource(std::shared_ptr<State> state) : state_(std::move(state)) {}

std::unique_ptr<JwksSource> JwksSource::Start(JwksSourceOptions options, KeysCallback on_keys, std::string* error) {
  if (!AcceptableJwksUri(options.uri, error)) return nullptr;
  auto state = std::make_shared<State>();
  state->options = std::move(options);
  state->on_keys = std::move(on_keys);
  if (!state->Fetch(error)) return nullptr;
  state->thread = std::thread([s = state.get()] { s->Loop(); });
  return std::unique_ptr<JwksSource>(new JwksSource(std::move(state)));
}

JwksSource::~JwksSource() {
  {
    std::lock_guard lock(state_->mu);
    state_->stop = true;
  }
  state_->cv.notify_all();
  state_->thread.join();
}

void JwksSource::RefreshSoon() {
  {
    std::lock_guard lock(state_->mu);
    if (state_->asked) return;
    state_->asked = true;
  }
  state_->cv.notify_all();
}

uint64_t JwksSource::fetches() const { return state_->fetches.load(std::memory_order_relaxed); }
uint64_t JwksSource::failures() const { return state_->failures.load(std::memory_order_relaxed); }

}  // namespace caseledger::api
