// Reading the reference tables and rule sets shipped under ops/ into domain types.
#pragma once

#include "domain/reference.h"
#include "domain/rules.h"

#include <memory>
#include <string>

namespace caseledger::app {

// The ops/ directories of the source tree this binary was built from, or
// $CASELEDGER_HOME/ops/... when that is set (an installed layout).
std::string DefaultReferenceDir();
std::string DefaultRulesDir();

domain::Result<std::shared_ptr<const domain::ReferenceData>> LoadReferenceData(const std::string& dir);
// Every *.json file in `dir`, in effective-date order.
domain::Result<domain::RuleBook> LoadRuleBook(const std::string& dir);

}  // namespace caseledger::app
