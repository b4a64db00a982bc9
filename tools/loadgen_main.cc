// caseledger-loadgen: HTTP load against a server, or the generated DPC workload into a store
// (docs/benchmarks.md), an executable apart from the product's, over the workload library.
#include "app/command_table.h"
#include "tools/tools.h"

namespace caseledger::tools {
namespace {

constexpr app::FlagSpec kReference = app::kReferenceFlag;
constexpr app::FlagSpec kFormatTable = app::kFormatTableFlag;

app::Program MakeProgram() {
  app::Program program{"caseledger-loadgen", "load generator for caseledger",
                       "HTTP load against a running caseledger server (open or closed loop, or "
                       "Italy's peak day), or the DPC-driven workload generated straight into a store "
                       "or bulk-loaded (--sink store|import) for scale runs.",
                       "", {}};
  program.commands = {
      {"",
       "HTTP load against a server, or a generated workload into a store",
       {"--target URL --token T --mix commands|queries (--rate R | --max) [--seconds S] [--connections N]",
        "--target URL --token T --peak [--scale 1:N]",
        "--sink store|import --data DIR [--from D] [--to D] [--scale 1:N] [--seed N] [--resume]"},
       {{"target", "URL", "the server, http://HOST:PORT"},
        {"token", "T", "a bearer token for it"},
        {"mix", "commands|queries", "register and take people through swabs, or read people"},
        {"rate", "R", "open loop at R requests/s (latency from the intended send time)"},
        {"max", nullptr, "closed loop, as fast as the server answers"},
        {"peak", nullptr, "Italy's worst day of swabs, scaled 1:N, as fast as the server answers"},
        {"connections", "N", "keep-alive connections (64)"},
        {"threads", "N", "client threads (1)"},
        {"seconds", "S", "measured seconds (10)"},
        {"warmup", "S", "seconds before measuring (2)"},
        {"people", "N", "people set up for the queries mix (2000)"},
        {"seed", "N", "seed of the generated workload (1)"},
        {"sink", "http|store|import", "store: the DPC-driven workload through Decide straight into a store; "
                                      "import: the same, bulk-loaded (docs/import.md)"},
        {"data", "DIR", "the store's data directory (--sink store)"},
        {"from", "DATE", "first day (--sink store: 2020-10-01)"},
        {"to", "DATE", "last day (--sink store: 2020-10-31)"},
        {"scale", "1:N", "scale of the workload (--sink store 1:1000, --peak 1:100)"},
        {"appenders", "N", "appender threads (--sink store: 64)"},
        {"resume", nullptr, "finish a stopped load of the same options, appending only what is missing"},
        {"people-in-memory", "N", "generated people kept decoded (--sink store|import: 262144); the others wait "
                                  "in a file in --data"},
        kReference, kFormatTable},
       "Exit 0 when the load ran, whatever the server answered (errors are counted and printed).",
       RunLoadgen},
  };
  return program;
}

}  // namespace
}  // namespace caseledger::tools

int main(int argc, char** argv) { return caseledger::app::RunProgram(caseledger::tools::MakeProgram(), argc, argv); }
