// Rule set files (domain/rules.h, ops/rules/*.json), as `rules adopt` and serve --rules
// read them. Property (rules.h): Parse(ToJson()) gives the same text again.
#include "domain/rules.h"
#include "tests/fuzz/fuzz_target.h"

CASELEDGER_FUZZ_TARGET(rules) {
  namespace domain = caseledger::domain;
  auto set = domain::RuleSet::Parse(caseledger::fuzz::AsText(data, size));
  if (!set) {
    FUZZ_CHECK(!set.error().message.empty());
    return 0;
  }
  const std::string once = set->ToJson();
  auto again = domain::RuleSet::Parse(once);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(again->ToJson() == once);
  return 0;
}
