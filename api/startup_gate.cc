#include "api/startup_gate.h"

#include "api/problem.h"

#include <cmath>
#include <cstdio>

namespace caseledger::api {

void StartupProgress::Set(const projections::CatchUpProgress& p) {
  std::lock_guard lock(mu_);
  progress_ = p;
}

projections::CatchUpProgress StartupProgress::Get() const {
  std::lock_guard lock(mu_);
  return progress_;
}

std::string StartupProgress::Json() const {
  if (!Running()) return "";
  const projections::CatchUpProgress p = Get();
  char numbers[96];
  std::snprintf(numbers, sizeof numbers, "\"events_per_second\":%.0f,\"eta_seconds\":%.0f", p.events_per_second,
                std::isfinite(p.eta_seconds) ? p.eta_seconds : -1.0);
  const std::string position = std::to_string(p.position);
  return "\"views_position\":" + position + ",\"catch_up\":{\"position\":" + position +
         ",\"target\":" + std::to_string(p.target) + "," + numbers + "}";
}

namespace {

Response Starting() {
  Response r = Problem(503, "starting", "Starting",
                       "The read views are catching up with the log; GET /readyz says how far. Try again later.");
  r.Set("Retry-After", "5");
  return r;
}

}  // namespace

Router StartingRouter(const Router& all, const StartupProgress& startup) {
  Router out;
  for (Route r : all.routes()) {
    if (r.authenticated) {
      if (r.async_handler) {
        r.async_handler = [inner = std::move(r.async_handler), &startup](const RouteRequest& req, Respond respond) {
          if (startup.Running()) return respond(Starting());
          inner(req, std::move(respond));
        };
      } else {
        r.handler = [inner = std::move(r.handler), &startup](const RouteRequest& req) {
          return startup.Running() ? Starting() : inner(req);
        };
      }
    }
    out.Add(std::move(r));
  }
  return out;
}

}  // namespace caseledger::api
