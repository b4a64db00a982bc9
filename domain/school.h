// The school aggregate (stream "school-<code>"): class-level quarantines.
#pragma once

#include "domain/commands.h"
#include "domain/decision.h"
#include "domain/error.h"
#include "domain/events.h"

#include <string>
#include <vector>

namespace caseledger::domain {

struct SchoolState {
  std::string school;  // codice meccanografico; set by the caller for a new stream
  uint64_t version = 0;
  std::vector<ClassQuarantineOrdered> class_quarantines;
};

void Evolve(SchoolState& state, const Event& event);

Result<Decision> Decide(const SchoolState& state, const SchoolCommand& command,
                        const DecideContext& context);

}  // namespace caseledger::domain
