#include "api/dispatcher.h"

#include "api/position_waiters.h"
#include "api/problem.h"
#include "api/thread_inbox.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

namespace caseledger::api {
namespace {

using namespace std::chrono_literals;

// A router with an open route, a gated route answered later from another thread, a route
// whose asynchronous handler throws, a command whose answer is deferred and a read that
// waits for a position; tokens "good", "blocked" (refused by the gate).
class DispatcherTest : public ::testing::Test {
 protected:
  DispatcherTest() {
    options_.command_threads = 2;
    // Longer than Answer() runs the io_context: a read answered at all was woken by the
    // notification, not by its deadline.
    options_.default_wait = 10s;
    options_.position_waiters = &waiters_;
    Route deferred{Method::kPost, "/deferred", RouteKind::kCommand, false, [this](const RouteRequest&) {
                     Response r;
                     r.deferred = [this](Reply reply) {
                       // As a store's completion: another thread posts the work back.
                       workers_.emplace_back([this, reply] {
                         std::this_thread::sleep_for(20ms);
                         reply.post([this, reply] {
                           work_thread_ = std::this_thread::get_id();
                           Response done;
                           done.status = 201;
                           reply.respond(done);
                         });
                       });
                     };
                     return r;
                   }};
    router_.Add(std::move(deferred));
    // The same answer from a route that decides on the I/O thread; both record where their
    // handler and their deferred start ran.
    for (RouteKind kind : {RouteKind::kCommand, RouteKind::kDeferredCommand}) {
      const char* path = kind == RouteKind::kCommand ? "/pooled" : "/inline";
      router_.Add({Method::kPost, path, kind, false, [this, kind](const RouteRequest&) {
                     handler_thread_[kind] = std::this_thread::get_id();
                     Response r;
                     r.deferred = [this, kind](Reply reply) {
                       start_thread_[kind] = std::this_thread::get_id();
                       workers_.emplace_back([reply] {
                         std::this_thread::sleep_for(20ms);
                         Response done;
                         done.status = 201;
                         reply.respond(done);
                       });
                     };
                     return r;
                   }});
    }
    router_.Add({Method::kGet, "/wait", RouteKind::kQuery, false, [this](const RouteRequest&) {
                   Response r;
                   if (position_ < 5) r.wait_for_position = 5;
                   else r.body = "at 5";
                   return r;
                 }});
    router_.Add({Method::kGet, "/open", RouteKind::kQuery, false, [](const RouteRequest&) {
                   Response r;
                   r.body = "open";
                   return r;
                 }});
    Route later{Method::kPost, "/later", RouteKind::kCommand, true, nullptr, 1 << 20};
    later.admit = [](const Principal& p) -> std::optional<Response> {
      if (p.subject == "blocked") return Problem(403, "forbidden", "Forbidden", "not you");
      return std::nullopt;
    };
    later.async_handler = [this](const RouteRequest& req, Respond respond) {
      // Answers from a thread of its own, after the handler has returned, twice.
      workers_.emplace_back([respond, body = req.http.body, who = req.principal.subject] {
        std::this_thread::sleep_for(20ms);
        Response r;
        r.status = 201;
        r.body = who + ":" + body;
        respond(r);
        respond(Response{});  // ignored
      });
    };
    router_.Add(std::move(later));
    Route broken{Method::kGet, "/broken", RouteKind::kQuery, false, nullptr};
    broken.async_handler = [](const RouteRequest&, Respond) { throw std::runtime_error("boom"); };
    router_.Add(std::move(broken));
    dispatcher_ = std::make_unique<Dispatcher>(
        options_, router_,
        [](std::string_view bearer, std::string* why, VerifiedBearer*) -> std::optional<Principal> {
          if (bearer == "good") return Principal{"alice", {}};
          if (bearer == "blocked") return Principal{"blocked", {}};
          *why = "invalid token";
          return std::nullopt;
        },
        [this] { return position_.load(); });
  }
  ~DispatcherTest() override {
    for (auto& t : workers_) t.join();
    dispatcher_->Join();
  }

  static Request Head(Method method, std::string target, std::string token = "") {
    Request r;
    r.method = method;
    r.target = std::move(target);
    if (!token.empty()) r.headers.Add("authorization", "Bearer " + token);
    return r;
  }

  // Handles `req` (admitted first) and runs an io_context until the answer; counts calls.
  // With `drains`: the io_context's thread has an inbox, and *drains is how many drains it
  // posted.
  Response Answer(Request req, int* calls, size_t* drains = nullptr) {
    io_thread_ = std::this_thread::get_id();
    Admitted a = dispatcher_->Admit(req);
    EXPECT_FALSE(a.refusal);
    boost::asio::io_context ioc;
    auto guard = boost::asio::make_work_guard(ioc);
    std::optional<ThreadInbox> inbox;
    if (drains) inbox.emplace(ioc);
    std::optional<Response> out;
    dispatcher_->Handle(std::make_shared<const Request>(std::move(req)), std::move(a), ioc.get_executor(),
                        [&](Response r) {
                          ++*calls;
                          out = std::move(r);
                          guard.reset();
                        },
                        inbox ? &*inbox : nullptr);
    ioc.run_for(2s);
    ioc.restart();
    ioc.run_for(100ms);  // a second answer, if one came, would run here
    if (drains) *drains = inbox->drains_posted();
    if (out) return std::move(*out);
    Response none;
    none.status = 0;
    return none;
  }

  ServerOptions options_;
  PositionWaiters waiters_;
  std::atomic<uint64_t> position_{0};
  std::thread::id io_thread_, work_thread_;
  std::map<RouteKind, std::thread::id> handler_thread_, start_thread_;
  Router router_;
  std::vector<std::thread> workers_;
  std::unique_ptr<Dispatcher> dispatcher_;
};

TEST_F(DispatcherTest, AdmitsOnTheHeadersAlone) {
  Request open = Head(Method::kGet, "/open");
  Admitted a = dispatcher_->Admit(open);
  EXPECT_FALSE(a.refusal);
  EXPECT_EQ(a.route_name, "/open");
  EXPECT_EQ(a.body_limit, options_.command_body_limit);

  Request good = Head(Method::kPost, "/later?x=1", "good");
  a = dispatcher_->Admit(good);
  EXPECT_FALSE(a.refusal);
  EXPECT_EQ(a.body_limit, size_t{1} << 20) << "the route's own limit";
  EXPECT_EQ(a.principal.subject, "alice");
  EXPECT_EQ(good.path, "/later");

  Request none = Head(Method::kPost, "/later");
  a = dispatcher_->Admit(none);
  ASSERT_TRUE(a.refusal);
  EXPECT_EQ(a.refusal->status, 401);
  EXPECT_NE(a.refusal->Header("WWW-Authenticate"), "");
  EXPECT_EQ(a.route_name, "/later");

  Request blocked = Head(Method::kPost, "/later", "blocked");
  a = dispatcher_->Admit(blocked);
  ASSERT_TRUE(a.refusal);
  EXPECT_EQ(a.refusal->status, 403);

  Request missing = Head(Method::kGet, "/nowhere", "good");
  a = dispatcher_->Admit(missing);
  ASSERT_TRUE(a.refusal);
  EXPECT_EQ(a.refusal->status, 404);

  Request wrong = Head(Method::kDelete, "/open");
  a = dispatcher_->Admit(wrong);
  ASSERT_TRUE(a.refusal);
  EXPECT_EQ(a.refusal->status, 405);
  EXPECT_EQ(a.refusal->Header("Allow"), "GET");

  EXPECT_EQ(dispatcher_->MaxBodyLimit(), size_t{1} << 20);
}

TEST_F(DispatcherTest, AsyncHandlerAnswersLaterFromAnotherThreadOnce) {
  Request req = Head(Method::kPost, "/later", "good");
  req.body = "payload";
  int calls = 0;
  Response r = Answer(std::move(req), &calls);
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body, "alice:payload");
  EXPECT_EQ(calls, 1);
}

TEST_F(DispatcherTest, ThrowingAsyncHandlerIs500) {
  int calls = 0;
  Response r = Answer(Head(Method::kGet, "/broken"), &calls);
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(calls, 1);
}

TEST_F(DispatcherTest, SyncHandlerAnswersAtOnce) {
  int calls = 0;
  Response r = Answer(Head(Method::kGet, "/open"), &calls);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "open");
}

TEST_F(DispatcherTest, DeferredAnswerRunsItsWorkOnTheConnectionsThreadAndAnswersOnce) {
  int calls = 0;
  Response r = Answer(Head(Method::kPost, "/deferred"), &calls);
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(work_thread_, io_thread_) << "the posted work ran on the io_context's thread";
}

TEST_F(DispatcherTest, DeferredAnswersWorkComesBackThroughItsThreadsInbox) {
  int calls = 0;
  size_t drains = 0;
  Response r = Answer(Head(Method::kPost, "/deferred"), &calls, &drains);
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(work_thread_, io_thread_) << "the posted work ran on the io_context's thread";
  EXPECT_EQ(drains, 1u) << "the work came through the inbox, not a post of its own";
}

TEST_F(DispatcherTest, DeferredCommandDecidesOnTheIoThreadAndAWaitingCommandOnThePool) {
  int calls = 0;
  Response r = Answer(Head(Method::kPost, "/inline"), &calls);
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(handler_thread_[RouteKind::kDeferredCommand], io_thread_);
  EXPECT_EQ(start_thread_[RouteKind::kDeferredCommand], io_thread_);

  calls = 0;
  r = Answer(Head(Method::kPost, "/pooled"), &calls);
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(calls, 1);
  EXPECT_NE(handler_thread_[RouteKind::kCommand], std::thread::id());
  EXPECT_NE(handler_thread_[RouteKind::kCommand], io_thread_) << "a command that may wait runs on the pool";
  EXPECT_EQ(start_thread_[RouteKind::kCommand], handler_thread_[RouteKind::kCommand]);
}

TEST_F(DispatcherTest, ReadWaitingForAPositionIsAnsweredWhenTheViewsSayTheyReachedIt) {
  workers_.emplace_back([this] {
    std::this_thread::sleep_for(50ms);
    waiters_.Notify(3);  // not far enough: the read keeps waiting
    position_ = 5;
    waiters_.Notify(5);
  });
  int calls = 0;
  Response r = Answer(Head(Method::kGet, "/wait"), &calls);
  EXPECT_EQ(r.status, 200) << "answered by the notification, long before its 10 s deadline";
  EXPECT_EQ(r.body, "at 5");
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(waiters_.size(), 0u);
}

TEST(PositionWaitersTest, CallsWaitersUpToTheNotifiedPositionOnceAndForgetsRemovedOnes) {
  PositionWaiters w;
  int a = 0, b = 0, c = 0;
  w.Add(3, [&] { ++a; });
  w.Add(7, [&] { ++b; });
  const PositionWaiters::Id gone = w.Add(5, [&] { ++c; });
  w.Remove(gone);
  w.Notify(4);
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 0);
  w.Notify(9);
  w.Notify(9);
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 1);
  EXPECT_EQ(c, 0);
  EXPECT_EQ(w.size(), 0u);
}

}  // namespace
}  // namespace caseledger::api
