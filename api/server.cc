// The listener, modelled on Beast's advanced_server: it accepts, paces itself when accepting
// fails, and starts a session per connection (session.cc: the transport) that hands
// requests to the dispatcher (dispatcher.cc: the application). Connections are capped in
// all and per client (connection_table.h); shutdown on SIGINT/SIGTERM finishes what is in
// flight.
#include "api/server.h"

#include "api/accept_backoff.h"
#include "api/api_logger.h"
#include "api/connection_table.h"
#include "api/dispatcher.h"
#include "api/session.h"

#include <pthread.h>
#include <boost/asio.hpp>
#include <boost/asio/experimental/as_tuple.hpp>
#include <boost/asio/ssl.hpp>

#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <thread>

namespace caseledger::api {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;
constexpr auto kTuple = asio::experimental::as_tuple(use_awaitable);

namespace {

// TLS 1.2 and later, with the server's certificate chain and key; an error message when
// the files do not load or do not match.
std::optional<std::string> ConfigureTls(ssl::context& ctx, const ServerOptions& o) {
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                  ssl::context::single_dh_use);
  if (SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION) != 1) {
    return "cannot require TLS 1.2";
  }
  boost::system::error_code ec;
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
  boost::system::error_code ec;
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

namespace {

// The connection caps in effect: as configured, or (0) half the descriptor limit, so that
// connections run out before the descriptors the store and the log need.
ConnectionLimits EffectiveLimits(const ServerOptions& o) {
  ConnectionLimits limits;
  limits.max_connections = o.max_connections;
  if (limits.max_connections == 0) {
    rlimit nofile{};
    size_t soft = getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY
                      ? static_cast<size_t>(nofile.rlim_cur)
                      : 20'000;
    limits.max_connections = std::clamp<size_t>(soft / 2, 16, 10'000);
  }
  limits.max_per_client = o.max_connections_per_client ? o.max_connections_per_client : limits.max_connections;
  return limits;
}

bool OutOfDescriptors(const boost::system::error_code& ec) {
  return ec == asio::error::no_descriptors || ec.value() == ENFILE || ec == asio::error::no_buffer_space ||
         ec == asio::error::no_memory;
}

}  // namespace

class HttpServer::Impl {
 public:
  Impl(ServerOptions options, const Router& router, Authenticator auth, PositionSource positions,
       HttpMetrics* metrics)
      : options_(std::move(options)),
        dispatcher_(options_, router, std::move(auth), std::move(positions)),
        connections_(EffectiveLimits(options_)),
        iocs_(MakeContexts(std::max(1, options_.io_threads))),
        ioc_(*iocs_.front()),
        tls_(ssl::context::tls_server),
        acceptor_(ioc_),
        host_{options_, dispatcher_, metrics, connections_, stopping_, nullptr, [this] { MaybeFinish(); }} {
    // The other contexts have no work until a connection lands on them: keep them running.
    for (size_t i = 1; i < iocs_.size(); ++i) idle_guards_.emplace_back(iocs_[i]->get_executor());
    const auto shortest = std::min(options_.read_timeout, options_.write_timeout);
    for (auto& ioc : iocs_) {
      sweepers_.push_back(std::make_unique<DeadlineSweeper>(*ioc, shortest));
      inboxes_.push_back(std::make_unique<ThreadInbox>(*ioc));
    }
  }

  std::optional<uint16_t> Start(std::string* error) {
    if (auto bad = ValidateListenOptions(options_)) {
      *error = *bad;
      return std::nullopt;
    }
    if (!options_.tls_cert_path.empty()) {
      if (auto bad = ConfigureTls(tls_, options_)) {
        *error = *bad;
        return std::nullopt;
      }
      host_.tls = &tls_;
    }
    boost::system::error_code ec;
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
    ApiLog()->info("at most {} connections, {} per client", connections_.limits().max_connections,
                   connections_.limits().max_per_client);
    asio::co_spawn(ioc_, Accept(), asio::detached);
    return port_;
  }

  void Run(bool handle_signals) {
    if (handle_signals) asio::post(ioc_, [this] { RegisterSignals(); });  // first thing ioc_ runs
    std::vector<std::thread> threads;
    for (size_t i = 1; i < iocs_.size(); ++i) {
      threads.emplace_back([this, i] {
        pthread_setname_np(pthread_self(), "cl-io");
        iocs_[i]->run();
      });
    }
    ioc_.run();
    for (auto& t : threads) t.join();
    dispatcher_.Join();
  }

  void Stop() { asio::post(ioc_, [this] { BeginStop(); }); }

  // On ioc_: SIGINT and SIGTERM stop the server as Stop() does (once; not while stopping).
  void RegisterSignals() {
    if (stopping_ || signals_) return;
    signals_ = std::make_unique<asio::signal_set>(ioc_, SIGINT, SIGTERM);
    signals_->async_wait([this](boost::system::error_code ec, int sig) {
      if (!ec) {
        ApiLog()->info("signal {}: stopping", sig);
        BeginStop();
      }
    });
  }

  // From a thread other than the server's, while it runs: returns once the signals are
  // registered (or after 10 s), so that a caller who then announces the server (`caseledger
  // serve`'s banner) has SIGTERM handled from that moment. It used to return at once, with
  // the registration still queued on the server's thread: a SIGTERM right after the banner
  // (systemd stopping a unit just started; a test on a loaded machine) took the default
  // action and ended the process uncleanly.
  void HandleSignals() {
    auto done = std::make_shared<std::promise<void>>();
    std::future<void> registered = done->get_future();
    asio::post(ioc_, [this, done] {
      RegisterSignals();
      done->set_value();
    });
    registered.wait_for(std::chrono::seconds(10));
  }

 private:
  // One io_context per I/O thread, each run by its own thread only: a connection lives on
  // one of them (round robin), so its handlers need no strand and never wake another
  // thread, and the contexts share nothing per request.
  static std::vector<std::unique_ptr<asio::io_context>> MakeContexts(int n) {
    std::vector<std::unique_ptr<asio::io_context>> out;
    for (int i = 0; i < n; ++i) out.push_back(std::make_unique<asio::io_context>(1));
    return out;
  }

  // Runs on ioc_: stop accepting, close idle connections, and give busy ones the grace
  // period before the io_contexts are stopped.
  void BeginStop() {
    if (stopping_.exchange(true)) return;
    boost::system::error_code ec;
    acceptor_.close(ec);
    if (signals_) signals_->cancel(ec);  // its wait would keep ioc_ running
    for (auto& cancel : connections_.Stop()) cancel();
    idle_guards_.clear();  // the other contexts end once their connections have
    {
      std::lock_guard l(mu_);
      grace_ = std::make_unique<asio::steady_timer>(ioc_, options_.shutdown_grace);
    }
    grace_->async_wait([this](boost::system::error_code ec) {
      if (ec == asio::error::operation_aborted) return;  // every connection finished in time
      ApiLog()->warn("shutdown grace period over; stopping");
      for (auto& ioc : iocs_) ioc->stop();
    });
    MaybeFinish();
  }

  // After a connection ended (on any I/O thread): the last one ends the grace period.
  void MaybeFinish() {
    std::lock_guard l(mu_);
    if (stopping_ && grace_ && connections_.size() == 0) {
      asio::post(ioc_, [this] { grace_->cancel(); });
    }
  }

  // Accepts until stopped. A failure (descriptors ran out, above all) waits a growing
  // delay instead of retrying at once, logs one line per period, and closes the longest
  // idle connection so that the next accept has a descriptor.
  awaitable<void> Accept() {
    AcceptBackoff backoff;
    asio::steady_timer pause(ioc_);
    for (;;) {
      const size_t home_index = next_context_ % iocs_.size();
      asio::io_context& home = *iocs_[home_index];
      auto [ec, socket] = co_await acceptor_.async_accept(home, kTuple);
      if (stopping_) co_return;
      if (ec) {
        auto step = backoff.Failed(AcceptBackoff::Clock::now());
        if (OutOfDescriptors(ec)) {
          if (auto evict = connections_.EvictOldestIdle()) evict();
        }
        if (step.log) {
          ApiLog()->warn("accept: {} ({} failures since the last line); retrying in {} ms, then slower",
                         ec.message(), step.failures, step.wait.count());
        }
        pause.expires_after(step.wait);
        co_await pause.async_wait(kTuple);
        if (stopping_) co_return;
        continue;
      }
      backoff.Succeeded();
      ++next_context_;
      socket.set_option(tcp::no_delay(true), ec);
      auto executor = socket.get_executor();
      asio::co_spawn(executor, RunSession(std::move(socket), host_, *sweepers_[home_index], *inboxes_[home_index]), asio::detached);
    }
  }

  ServerOptions options_;
  Dispatcher dispatcher_;
  ConnectionTable connections_;
  std::vector<std::unique_ptr<asio::io_context>> iocs_;
  asio::io_context& ioc_;  // the first: acceptor, signals, shutdown timer
  // One per io_context, destroyed before them (each owns a timer on its context).
  std::vector<std::unique_ptr<DeadlineSweeper>> sweepers_;
  // One per io_context, destroyed before them: what other threads hand each I/O thread.
  std::vector<std::unique_ptr<ThreadInbox>> inboxes_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> idle_guards_;
  size_t next_context_ = 0;  // only touched by Accept(), on ioc_
  ssl::context tls_;
  tcp::acceptor acceptor_;
  std::atomic<bool> stopping_{false};
  SessionHost host_;
  uint16_t port_ = 0;
  std::mutex mu_;
  std::unique_ptr<asio::steady_timer> grace_;  // set once, under mu_, on ioc_
  std::unique_ptr<asio::signal_set> signals_;   // set once HandleSignals ran; only on ioc_
};

HttpServer::HttpServer(ServerOptions options, const Router& router, Authenticator auth,
                       PositionSource positions, HttpMetrics* metrics)
    : impl_(std::make_unique<Impl>(std::move(options), router, std::move(auth),
                                   std::move(positions), metrics)) {}
HttpServer::~HttpServer() = default;
std::optional<uint16_t> HttpServer::Start(std::string* error) { return impl_->Start(error); }
void HttpServer::Run(bool handle_signals) { impl_->Run(handle_signals); }
void HttpServer::HandleSignals() { impl_->HandleSignals(); }
void HttpServer::Stop() { impl_->Stop(); }

}  // namespace caseledger::api
