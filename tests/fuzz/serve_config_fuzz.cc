// serve's configuration file (app/serve_config.h). Property: a file that parses yields only
// "--flag=value" arguments and "--switch" ones, each naming a flag of the file's table.
#include "app/serve_config.h"
#include "tests/fuzz/fuzz_target.h"

CASELEDGER_FUZZ_TARGET(serve_config) {
  std::string error;
  auto args = caseledger::app::ParseServeConfig(std::string(caseledger::fuzz::AsText(data, size)),
                                                "/etc/caseledger/serve.json", &error);
  if (!args) {
    FUZZ_CHECK(!error.empty());
    return 0;
  }
  namespace app = caseledger::app;
  for (const auto& a : *args) {
    FUZZ_CHECK(a.starts_with("--"));
    const std::string flag = a.substr(2, a.find('=') - 2);
    bool known = false;
    for (const auto& key : app::kServeConfigKeys) known = known || flag == key.flag;
    FUZZ_CHECK(known);
  }
  return 0;
}
