// While `caseledger serve` catches its views up at start (from scratch, minutes at regional
// scale), its port is open: /healthz, /readyz and /metrics answer, /readyz and /metrics
// with where the catch-up stands, and every route that needs a token answers 503
// problem+json "starting" with Retry-After. Without it the port stayed closed for the whole
// catch-up: a health check could not tell a server catching up from one that hung.
#pragma once

#include "api/router.h"
#include "projections/view_runner.h"

#include <atomic>
#include <mutex>
#include <string>

namespace caseledger::api {

// The start's catch-up, told by the views (serving::LiveViewsOptions::on_catch_up) and read
// by the routes. Thread-safe.
class StartupProgress {
 public:
  void Set(const projections::CatchUpProgress& p);
  // The views answer: every route runs from now on. Whatever the starting thread wrote
  // before (the context's views, the standby's status) is seen by a route that then sees
  // Running() false.
  void Finish() { running_.store(false, std::memory_order_release); }
  bool Running() const { return running_.load(std::memory_order_acquire); }
  projections::CatchUpProgress Get() const;
  // While running, /readyz's members `"views_position":..,"catch_up":{"position":..,
  // "target":..,"events_per_second":..,"eta_seconds":..}`; "" once finished.
  std::string Json() const;

 private:
  mutable std::mutex mu_;
  projections::CatchUpProgress progress_;
  std::atomic<bool> running_{true};
};

// `all` with every route that needs a token answering 503 "starting" while `startup` runs;
// the others (operations, the contract, the console's files) answer as in `all`.
// `startup` outlives the router.
Router StartingRouter(const Router& all, const StartupProgress& startup);

}  // namespace caseledger::api
