// Route, authenticate, gate and answer. A request's answer is produced by one Run() pass:
// a query runs on the calling I/O thread; so does a deferred command, which decides and
// hands the append to the store's group commit without waiting for it (a deferred answer:
// Settle), and the store's completion brings the outcome back to the connection's
// executor, where the answer is sent. A command that waits for its append (grants, rules,
// the results batch) runs on the command pool. A route with an async_handler answers whenever it responds. A
// read that must first see a position waits for the views' notification that they reached
// it (PositionWaiters), then runs again, or is answered 503 at its deadline.
#include "api/dispatcher.h"

#include "api/api_logger.h"
#include "api/command_pool.h"
#include "api/position_waiters.h"
#include "api/problem.h"
#include "api/thread_inbox.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>

namespace caseledger::api {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

// A request being answered; also where its deferred answer goes (Replier), so that a
// command's Reply is this exchange, not closures allocated for it.
struct Dispatcher::Exchange final : Replier, std::enable_shared_from_this<Exchange> {
  Exchange(Dispatcher& d, std::shared_ptr<const Request> r, Admitted&& a, asio::any_io_executor ex, Completion c,
           ThreadInbox* in)
      : dispatcher(d), req(std::move(r)), admitted(std::move(a)),
        rr{*req, std::move(admitted.params), std::move(admitted.principal)}, executor(std::move(ex)),
        done(std::move(c)), inbox(in) {}
  void Post(std::function<void()> work) override {
    if (inbox) {
      // Batched with the other answers its group commit completes (thread_inbox.h).
      inbox->Add(std::move(work));
    } else {
      asio::post(executor, std::move(work));
    }
  }
  // On the connection's thread (a command's answer, from the work its completion posted)
  // the answer is finished at once rather than after another trip through the scheduler.
  // There it is finished by a direct call, as asio::dispatch would run it inline: through
  // the type-erased executor, dispatch wrapped the answer in an allocated function and
  // moved it three times (~500 instructions a command on its I/O thread).
  void Respond(Response&& res) override {
    if (answered.exchange(true)) return;
    if (const auto* io = executor.target<asio::io_context::executor_type>(); io && io->running_in_this_thread()) {
      return dispatcher.Finish(shared_from_this(), std::move(res));
    }
    asio::dispatch(executor, [x = shared_from_this(), res = std::move(res)]() mutable {
      x->dispatcher.Finish(x, std::move(res));
    });
  }
  Dispatcher& dispatcher;
  std::shared_ptr<const Request> req;
  Admitted admitted;
  RouteRequest rr;  // refers to *req
  asio::any_io_executor executor;
  Completion done;
  ThreadInbox* inbox;  // executor's thread's, or null
  Clock::duration wait{};      // how long a read may wait for a position (timeout_ms)
  Clock::time_point deadline;  // from the first time it waits: set then (Finish)
  std::optional<asio::steady_timer> timer;  // only for a read that waits for a position
  std::atomic<bool> answered{false};        // the deferred answer settling now was given
};

Dispatcher::Dispatcher(const ServerOptions& options, const Router& router, Authenticator auth,
                       PositionSource positions)
    : options_(options),
      router_(router),
      auth_(std::move(auth)),
      positions_(std::move(positions)),
      max_body_limit_(options.command_body_limit),
      commands_(std::make_unique<CommandPool>(options.command_threads)) {
  for (const Route& r : router_.routes()) max_body_limit_ = std::max(max_body_limit_, r.body_limit);
}

Dispatcher::~Dispatcher() = default;

void Dispatcher::Join() { commands_->Join(); }

Admitted Dispatcher::Admit(Request& req, VerifiedBearer* last) const {
  Admitted a;
  a.body_limit = options_.command_body_limit;
  if (!ParseTarget(req.target, req.path, req.query)) {
    a.refusal = BadField("target", "the request target is malformed");
    return a;
  }
  Router::Match match = router_.Find(req.method, req.path);
  if (!match.route) {
    if (match.status == 405) {
      a.refusal = Problem(405, "method-not-allowed", "Method not allowed",
                          std::string(ToString(req.method)) + " is not allowed on " + req.path);
      a.refusal->Set("Allow", match.allow);
    } else {
      a.refusal = Problem(404, "not-found", "Not found", "no such resource: " + req.path);
    }
    return a;
  }
  const Route& route = *match.route;
  a.route = &route;
  a.route_name = route.pattern;
  a.params = std::move(match.params);
  if (route.body_limit) a.body_limit = route.body_limit;
  if (!route.authenticated) return a;
  std::string_view auth = req.Header("authorization");
  std::string error;  // set by a refusing authenticator (a default message was a heap string per request)
  std::optional<Principal> principal;
  if (auth.size() > 7 && (auth.substr(0, 7) == "Bearer " || auth.substr(0, 7) == "bearer ")) {
    principal = auth_(auth.substr(7), &error, last);
  }
  if (!principal) {
    a.refusal = Problem(401, "unauthorized", "Unauthorized", error.empty() ? "a bearer token is required" : error);
    a.refusal->Set("WWW-Authenticate", "Bearer realm=\"caseledger\"");
    return a;
  }
  if (route.admit) a.refusal = route.admit(*principal);
  a.principal = std::move(*principal);
  return a;
}

void Dispatcher::Handle(std::shared_ptr<const Request> req, Admitted&& admitted, asio::any_io_executor executor,
                        Completion done, ThreadInbox* inbox) {
  auto x = std::make_shared<Exchange>(*this, std::move(req), std::move(admitted), std::move(executor),
                                      std::move(done), inbox);
  // The deadline counts from the first time the read must wait (a clock read that nearly
  // every request, answered at once, does without).
  x->wait = options_.default_wait;
  if (auto wait = x->req->Query("timeout_ms")) {
    char* end = nullptr;
    long ms = std::strtol(wait->c_str(), &end, 10);
    if (end && *end == '\0' && ms >= 0) x->wait = std::min(std::chrono::milliseconds(ms), options_.max_wait);
  }
  Run(std::move(x));
}

void Dispatcher::Run(std::shared_ptr<Exchange> x) {
  const Route& route = *x->admitted.route;
  if (route.async_handler) {
    if (route.kind == RouteKind::kCommand) {
      commands_->Submit([this, x] { InvokeAsync(x); });
    } else {
      InvokeAsync(std::move(x));
    }
    return;
  }
  if (route.kind == RouteKind::kCommand) {
    commands_->Submit([this, x] {
      Response res = Invoke(*x->admitted.route, x->rr);
      if (res.deferred) return Settle(x, std::move(res));
      asio::post(x->executor, [this, x, res = std::move(res)]() mutable { Finish(x, std::move(res)); });
    });
    return;
  }
  // A query, or a deferred command: its first attempt (decide, hand the append over) runs
  // here, through Finish and Settle, with no hop to a pool thread and back.
  Finish(x, Invoke(route, x->rr));
}

// Starts a deferred answer on the calling thread (for a command: its first attempt hands
// the append to the store); its work comes back to the connection's executor through
// Reply::post, its answer through Finish.
void Dispatcher::Settle(std::shared_ptr<Exchange> x, Response res) {
  // Not answered yet: an answer that is itself deferred comes here from the first one's
  // answer, which was taken.
  x->answered.store(false);
  const Reply reply{x};
  auto deferred = std::move(res.deferred);
  try {
    deferred(reply);
  } catch (const std::exception& e) {
    ApiLog()->error("{} {}: {}", ToString(x->rr.http.method), x->admitted.route_name, e.what());
    reply.respond(Problem(500, "internal", "Internal error", "the server could not complete the request"));
  }
}

// On the connection's executor.
void Dispatcher::Finish(std::shared_ptr<Exchange> x, Response res) {
  if (res.deferred) return Settle(std::move(x), std::move(res));
  if (res.wait_for_position == 0) return x->done(std::move(res));
  if (positions_() >= res.wait_for_position) return Run(std::move(x));  // reached meanwhile
  const auto now = Clock::now();
  if (x->deadline == Clock::time_point{}) x->deadline = now + x->wait;
  if (now >= x->deadline) {
    Response r = Problem(503, "not-yet-consistent", "Views not yet consistent",
                         "the views have not reached position " + std::to_string(res.wait_for_position) +
                             " in time");
    r.Set("Retry-After", "1");
    r.Set("X-Position", std::to_string(positions_()));
    return x->done(std::move(r));
  }
  if (!x->timer) x->timer.emplace(x->executor);
  PositionWaiters* waiters = options_.position_waiters;
  if (!waiters) {  // nobody notifies (a server without views): look again shortly
    x->timer->expires_after(std::chrono::milliseconds(2));
    x->timer->async_wait([this, x](boost::system::error_code) { Run(x); });
    return;
  }
  // The deadline, cut short by the views' notification (which cancels the timer on this
  // executor): either way the route runs again and looks.
  const uint64_t wanted = res.wait_for_position;
  x->timer->expires_at(x->deadline);
  const PositionWaiters::Id id =
      waiters->Add(wanted, [x] { asio::post(x->executor, [x] { x->timer->cancel(); }); });
  x->timer->async_wait([this, x, id, waiters](boost::system::error_code ec) {
    if (ec != asio::error::operation_aborted) waiters->Remove(id);  // the deadline, not the views
    Run(x);
  });
  if (positions_() >= wanted) x->timer->cancel();  // published just before the waiter was added
}

// The route answers through `respond`, on whatever thread it likes; the answer comes back
// to the connection's executor. A handler that throws before answering is answered 500.
void Dispatcher::InvokeAsync(std::shared_ptr<Exchange> x) {
  auto answered = std::make_shared<std::atomic<bool>>(false);
  Respond respond = [this, x, answered](Response res) {
    if (answered->exchange(true)) return;
    asio::post(x->executor, [this, x, res = std::move(res)]() mutable { Finish(x, std::move(res)); });
  };
  const Route& route = *x->admitted.route;
  try {
    route.async_handler(x->rr, respond);
  } catch (const std::exception& e) {
    ApiLog()->error("{} {}: {}", ToString(x->rr.http.method), route.pattern, e.what());
    respond(Problem(500, "internal", "Internal error", "the server could not complete the request"));
  }
}

Response Dispatcher::Invoke(const Route& route, const RouteRequest& rr) const {
  try {
    return route.handler(rr);
  } catch (const std::exception& e) {
    ApiLog()->error("{} {}: {}", ToString(rr.http.method), route.pattern, e.what());
    return Problem(500, "internal", "Internal error", "the server could not complete the request");
  }
}

}  // namespace caseledger::api
