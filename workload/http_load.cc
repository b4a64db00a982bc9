#include "workload/http_load.h"

#include <boost/asio.hpp>
#include <boost/asio/experimental/as_tuple.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <deque>
#include <thread>

namespace caseledger::workload {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kTuple = asio::experimental::as_tuple(asio::use_awaitable);
// A request that takes longer than this is a failure of the server, not a latency sample.
constexpr auto kIoTimeout = std::chrono::seconds(10);
// How often the watchdog looks for requests older than kIoTimeout. One timer per thread
// instead of one per operation: this client shares the machine with the server it loads.
constexpr auto kWatchdogPeriod = std::chrono::milliseconds(250);
constexpr size_t kErrorSamples = 3;
constexpr uint64_t kMaxAnswerBytes = 64 << 20;

Clock::duration Seconds(double s) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

struct Timeline {
  Clock::time_point start;         // the first open-loop request is intended here
  Clock::time_point window_from;   // start + warmup
  Clock::time_point window_until;  // window_from + seconds; nothing is intended after it
  Clock::time_point drain_until;   // window_until + drain
};

// One engine thread: its own io_context, connections, share of the schedule and result.
class LoadThread {
 public:
  LoadThread(const HttpTarget& target, const LoadOptions& options, int index, Workload& workload)
      : target_(target), options_(options), index_(index), workload_(workload), deadline_(ioc_) {
    // Every request carries the same headers; they are formatted once.
    fixed_headers_ = "Host: " + target.host + "\r\n";
    if (!target.bearer_token.empty()) {
      fixed_headers_ += "Authorization: Bearer " + target.bearer_token + "\r\n";
    }
  }

  // Opens `count` connections, blocking. False with `error` set when one cannot be opened.
  bool Connect(const tcp::resolver::results_type& endpoints, int count, std::string* error) {
    endpoints_ = endpoints;
    for (int i = 0; i < count; ++i) {
      auto c = std::make_unique<Connection>(ioc_);
      beast::error_code ec;
      c->socket.connect(endpoints_.begin()->endpoint(), ec);
      if (ec) {
        *error = "cannot connect to " + target_.host + ":" + target_.port + ": " + ec.message();
        return false;
      }
      c->socket.set_option(tcp::no_delay(true), ec);
      connections_.push_back(std::move(c));
    }
    return true;
  }

  // Runs the load until every connection has finished or the drain deadline passed.
  void Run(const Timeline& timeline) {
    timeline_ = timeline;
    active_ = static_cast<int>(connections_.size());
    for (auto& c : connections_) asio::co_spawn(ioc_, Drive(*c), asio::detached);
    if (options_.rate > 0) asio::co_spawn(ioc_, Schedule(), asio::detached);
    asio::co_spawn(ioc_, Watchdog(), asio::detached);
    ioc_.run();
  }

  LoadResult& result() { return result_; }

 private:
  struct Connection {
    explicit Connection(asio::io_context& ioc) : socket(ioc), wake(ioc) {}
    tcp::socket socket;
    std::optional<Clock::time_point> busy_since;  // an I/O operation is pending since
    bool timed_out = false;                       // cancelled by the watchdog
    beast::flat_buffer buffer;
    asio::steady_timer wake;                    // an idle connection waits on it
    std::optional<Clock::time_point> assigned;  // set by Release before the wake-up
  };

  bool open_loop() const { return options_.rate > 0; }
  bool InWindow(Clock::time_point t) const {
    return t >= timeline_.window_from && t < timeline_.window_until;
  }

  // The intended time of this connection's next request, or nullopt when it is done.
  awaitable<std::optional<Clock::time_point>> Take(Connection& c) {
    if (stopping_) co_return std::nullopt;
    if (!open_loop()) {
      auto now = Clock::now();
      if (now >= timeline_.window_until) co_return std::nullopt;
      co_return now;
    }
    if (!due_.empty()) {
      auto t = due_.front();
      due_.pop_front();
      co_return t;
    }
    if (schedule_done_) co_return std::nullopt;
    c.assigned.reset();
    idle_.push_back(&c);
    c.wake.expires_at(Clock::time_point::max());
    co_await c.wake.async_wait(kTuple);  // only ever ends by cancel(): Release or the end
    co_return c.assigned;
  }

  // A request became due: to an idle connection if there is one, else to the queue.
  void Release(Clock::time_point t) {
    if (idle_.empty()) {
      due_.push_back(t);
      return;
    }
    Connection* c = idle_.back();
    idle_.pop_back();
    c->assigned = t;
    c->wake.cancel();
  }

  void WakeIdle() {
    for (Connection* c : idle_) c->wake.cancel();
    idle_.clear();
  }

  // Open loop: this thread's requests are i = index, index + threads, ... at start + i/rate.
  awaitable<void> Schedule() {
    asio::steady_timer timer(ioc_);
    const double period = 1.0 / options_.rate;
    for (uint64_t i = static_cast<uint64_t>(index_);;
         i += static_cast<uint64_t>(options_.threads)) {
      auto t = timeline_.start + Seconds(static_cast<double>(i) * period);
      if (t >= timeline_.window_until || stopping_) break;
      if (t > Clock::now()) {
        timer.expires_at(t);
        co_await timer.async_wait(kTuple);
      }
      Release(t);
    }
    schedule_done_ = true;
    WakeIdle();
  }

  // Cuts off requests older than kIoTimeout; at the end of the drain, stops everything and
  // counts what is still queued or in flight as unfinished. Ends early (cancelled) when
  // every connection has finished.
  awaitable<void> Watchdog() {
    for (;;) {
      deadline_.expires_at(std::min(Clock::now() + kWatchdogPeriod, timeline_.drain_until));
      auto [ec] = co_await deadline_.async_wait(kTuple);
      if (ec || active_ == 0) co_return;
      auto now = Clock::now();
      if (now >= timeline_.drain_until) break;
      for (auto& c : connections_) {
        if (c->busy_since && now - *c->busy_since > kIoTimeout) {
          c->timed_out = true;
          beast::error_code ignored;
          c->socket.cancel(ignored);
        }
      }
    }
    stopping_ = true;
    schedule_done_ = true;
    for (auto t : due_) Unfinished(t, timeline_.drain_until);
    due_.clear();
    WakeIdle();
    for (auto& c : connections_) {
      beast::error_code ignored;
      c->socket.cancel(ignored);
    }
  }

  void Unfinished(Clock::time_point intended, Clock::time_point now) {
    if (!InWindow(intended)) return;
    ++result_.unfinished;
    result_.latency_ns.Record((now - intended).count());
  }

  void Account(Clock::time_point intended, Clock::time_point done, int status,
               std::string_view body) {
    if (InWindow(done)) ++result_.answered_in_window;
    if (!InWindow(intended)) return;
    result_.latency_ns.Record(
        std::chrono::duration_cast<std::chrono::nanoseconds>(done - intended).count());
    ++result_.statuses[status];
    result_.body_bytes += body.size();
    if ((status < 200 || status > 299) && result_.error_samples.size() < kErrorSamples) {
      result_.error_samples.push_back(std::to_string(status) + " " +
                                      std::string(body.substr(0, 300)));
    }
  }

  // Closes and reopens the connection after a failure or a "Connection: close" answer;
  // retries every 100 ms until it works or the run is over.
  awaitable<bool> Reconnect(Connection& c) {
    for (;;) {
      beast::error_code ignored;
      c.socket.close(ignored);
      c.buffer.consume(c.buffer.size());
      if (stopping_ || Clock::now() >= timeline_.drain_until) co_return false;
      c.busy_since = Clock::now();
      auto [ec, endpoint] = co_await asio::async_connect(c.socket, endpoints_, kTuple);
      (void)endpoint;
      c.busy_since.reset();
      if (!ec) {
        c.socket.set_option(tcp::no_delay(true), ignored);
        co_return true;
      }
      asio::steady_timer pause(ioc_, std::chrono::milliseconds(100));
      co_await pause.async_wait(kTuple);
    }
  }

  awaitable<void> Drive(Connection& c) {
    asio::steady_timer pause(ioc_);
    std::string out;  // the request as sent
    for (;;) {
      auto intended = co_await Take(c);
      if (!intended) break;
      std::optional<LoadRequest> request = workload_.Next();
      if (!request) {
        if (open_loop()) {
          if (InWindow(*intended)) ++result_.skipped;
          continue;
        }
        if (workload_.Finished()) break;
        pause.expires_after(std::chrono::milliseconds(1));
        co_await pause.async_wait(kTuple);
        continue;
      }
      // HTTP/1.1 keeps the connection alive by default; the request is formatted by hand
      // (Beast's serializer costs more than the rest of this loop).
      out.clear();
      out.append(request->post ? "POST " : "GET ").append(request->target).append(" HTTP/1.1\r\n");
      out.append(fixed_headers_);
      if (request->post) {
        out.append("Content-Type: application/json\r\nContent-Length: ")
            .append(std::to_string(request->body.size()))
            .append("\r\n\r\n")
            .append(request->body);
      } else {
        out.append("\r\n");
      }
      c.busy_since = Clock::now();
      http::response_parser<http::string_body> parser;
      parser.body_limit(kMaxAnswerBytes);
      auto [ec, written] = co_await asio::async_write(c.socket, asio::buffer(out), kTuple);
      (void)written;
      if (!ec) {
        auto [read_ec, read] = co_await http::async_read(c.socket, c.buffer, parser, kTuple);
        (void)read;
        ec = read_ec;
      }
      c.busy_since.reset();
      if (c.timed_out) {
        c.timed_out = false;
        ec = asio::error::timed_out;
      }
      auto done = Clock::now();
      const http::response<http::string_body>& res = parser.get();
      if (stopping_) {
        Unfinished(*intended, done);
        break;
      }
      int status = ec ? 0 : static_cast<int>(res.result_int());
      Account(*intended, done, status, ec ? std::string_view(ec.message()) : res.body());
      workload_.Completed(*request, status, res.body());
      if ((ec || !res.keep_alive()) && !co_await Reconnect(c)) break;
    }
    if (--active_ == 0) deadline_.cancel();
  }

  const HttpTarget& target_;
  const LoadOptions& options_;
  const int index_;
  Workload& workload_;
  std::string fixed_headers_;
  asio::io_context ioc_{1};
  tcp::resolver::results_type endpoints_;
  std::vector<std::unique_ptr<Connection>> connections_;
  Timeline timeline_;
  std::deque<Clock::time_point> due_;  // intended, not yet taken by a connection
  std::vector<Connection*> idle_;
  asio::steady_timer deadline_;
  bool schedule_done_ = false;
  bool stopping_ = false;
  int active_ = 0;
  LoadResult result_;
};

}  // namespace

uint64_t LoadResult::ok() const {
  uint64_t n = 0;
  for (auto [status, count] : statuses) {
    if (status >= 200 && status <= 299) n += count;
  }
  return n;
}

uint64_t LoadResult::errors() const {
  uint64_t n = unfinished;
  for (auto [status, count] : statuses) {
    if (status < 200 || status > 299) n += count;
  }
  return n;
}

LoadResult RunLoad(const HttpTarget& target, const LoadOptions& options,
                   const std::function<std::unique_ptr<Workload>(int thread)>& make_workload,
                   std::vector<std::unique_ptr<Workload>>* keep) {
  LoadResult out;
  asio::io_context resolver_ioc;
  tcp::resolver resolver(resolver_ioc);
  beast::error_code ec;
  auto endpoints = resolver.resolve(target.host, target.port, ec);
  if (ec || endpoints.empty()) {
    out.fatal = "cannot resolve " + target.host + ":" + target.port + ": " + ec.message();
    return out;
  }
  std::vector<std::unique_ptr<Workload>> workloads;
  std::vector<std::unique_ptr<LoadThread>> threads;
  for (int i = 0; i < options.threads; ++i) {
    workloads.push_back(make_workload(i));
    threads.push_back(std::make_unique<LoadThread>(target, options, i, *workloads.back()));
    int share = options.connections / options.threads + (i < options.connections % options.threads);
    if (!threads.back()->Connect(endpoints, share, &out.fatal)) return out;
  }
  Timeline timeline;
  timeline.start = Clock::now() + std::chrono::milliseconds(5);
  timeline.window_from = timeline.start + Seconds(options.warmup);
  timeline.window_until = timeline.window_from + Seconds(options.seconds);
  timeline.drain_until = timeline.window_until + Seconds(options.drain);
  {
    std::vector<std::jthread> running;
    for (auto& t : threads) running.emplace_back([&t, &timeline] { t->Run(timeline); });
  }
  for (auto& t : threads) {
    LoadResult& r = t->result();
    out.latency_ns.Merge(r.latency_ns);
    for (auto [status, count] : r.statuses) out.statuses[status] += count;
    out.answered_in_window += r.answered_in_window;
    out.unfinished += r.unfinished;
    out.body_bytes += r.body_bytes;
    out.skipped += r.skipped;
    for (auto& s : r.error_samples) {
      if (out.error_samples.size() < kErrorSamples) out.error_samples.push_back(std::move(s));
    }
  }
  threads.clear();  // before the workloads they refer to
  if (keep) *keep = std::move(workloads);
  return out;
}

std::optional<HttpTarget> ParseHttpUrl(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) return std::nullopt;
  url.remove_prefix(kScheme.size());
  if (url.ends_with('/')) url.remove_suffix(1);
  auto colon = url.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  std::string_view host = url.substr(0, colon), port = url.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  uint16_t number = 0;
  auto [end, err] = std::from_chars(port.data(), port.data() + port.size(), number);
  if (err != std::errc() || end != port.data() + port.size() || number == 0) return std::nullopt;
  if (host.find('/') != std::string_view::npos) return std::nullopt;
  HttpTarget target;
  target.host = std::string(host);
  target.port = std::string(port);
  return target;
}

}  // namespace caseledger::workload
