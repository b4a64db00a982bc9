// caseledger-demo: the quick start's data (demo.cc), an executable apart from the product's.
#include "app/command_table.h"
#include "tools/tools.h"

int main(int argc, char** argv) {
  using caseledger::app::FlagSpec;
  static const caseledger::app::Program program{
      "caseledger-demo", "demo data for a first caseledger session",
      "Loads a month of synthetic Piedmont cases into an empty data directory for the quick start "
      "(ops/demo), grants the demo users their roles and prints their tokens.",
      "",
      {{"",
        "load the demo workload into DIR and print the demo users' tokens",
        {"--data DIR [--url URL] [--reference DIR] [--rules DIR]"},
        {{"data", "DIR", "the data directory caseledger serve will serve (created)"},
         {"url", "URL", "where that server will listen, for the curl lines printed (http://127.0.0.1:8080)"},
         caseledger::app::kReferenceFlag,
         {"rules", "DIR", "the shipped rule sets, recorded on a store's first start (ops/rules)"}},
        "Loads October 2020 in Piedmont at 1:1000 (about 1,600 events) into an empty store; a store "
        "holding more than the shipped rules is left as it is. The tokens (valid 12 h) are signed with "
        "DIR/auth.key, the key caseledger serve --data DIR uses. Run it with the server stopped.",
        caseledger::tools::RunDemo}}};
  return caseledger::app::RunProgram(program, argc, argv);
}
