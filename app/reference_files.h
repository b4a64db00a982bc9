// Reading the reference tables and rule sets shipped under ops/ into domain types.
#pragma once

#include "domain/reference.h"
#include "domain/rules.h"

#include <memory>
#include <string>

namespace caseledger::app {

// $CASELEDGER_HOME/ops/... when that is set; else the ops/ directories of the source tree
// this binary was built from when it is there; else the Debian package's
// /usr/share/caseledger/{reference,rules} (an installed binary).
std::string DefaultReferenceDir();
std::string DefaultRulesDir();

domain::Result<std::shared_ptr<const domain::ReferenceData>> LoadReferenceData(const std::string& dir);
// Every *.json file in `dir`, in effective-date order.
domain::Result<domain::RuleBook> LoadRuleBook(const std::string& dir);

}  // namespace caseledger::app
