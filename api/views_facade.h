// What the API needs from the read views (the projections module implements it).
#pragma once

#include "api/http.h"

#include <cstdint>
#include <string>

namespace caseledger::api {

class ViewsFacade {
 public:
  virtual ~ViewsFacade() = default;
  // Position up to which every view has applied the log.
  virtual uint64_t Position() const = 0;
};

}  // namespace caseledger::api
