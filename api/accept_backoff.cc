#include "api/accept_backoff.h"

#include <algorithm>

namespace caseledger::api {

AcceptBackoff::Step AcceptBackoff::Failed(Clock::time_point now) {
  Step step;
  step.wait = delay_;
  delay_ = std::min(delay_ * 2, options_.max);
  ++unlogged_;
  if (!logged_ || now - last_log_ >= options_.log_every) {
    step.log = true;
    step.failures = unlogged_;
    unlogged_ = 0;
    logged_ = true;
    last_log_ = now;
  }
  return step;
}

}  // namespace caseledger::api
