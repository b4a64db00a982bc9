// caseledger: one executable, one subcommand per task (docs/cli.md).
#include "app/commands.h"
#include "app/flags.h"

#include <cstring>
#include <iostream>
#include <map>

namespace {

constexpr char kUsage[] =
    "usage: caseledger <command> [flags]\n"
    "commands:\n"
    "  serve    --data DIR [--listen HOST:PORT] [--auth-key FILE]   run the HTTP API\n"
    "           [--token-issuer I] [--token-audience A]   iss/aud of its own tokens (caseledger)\n"
    "           [--log-level info] [--log-format text|json]   json: one JSON object per line\n"
    "           [--config FILE]   the same settings from a JSON file (flags win over it)\n"
    "           [--master-key FILE] [--tls-cert FILE --tls-key FILE | --insecure]\n"
    "           [--max-connections N] [--max-connections-per-client N]   connection caps\n"
    "           [--jwt-public-key FILE --jwt-public-key-alg RS256|ES256 [--jwt-issuer I] [--jwt-audience A]]\n"
    "           [--nats URL[,URL...] [--nats-replicas N]]        ... relaying the log to JetStream\n"
    "           [--replica-of URL[,URL...] [--replica-name NAME] [--primary URL]]  ... as a read replica\n"
    "  verify   --data DIR [--chain-only]                  check the hash chain, indexes and views\n"
    "  bench    append [--seconds S] [--concurrency 1,16,64] [--runs N] [--format table|tsv]\n"
    "  bench    rebuild [--store DIR/store] [--runs N] | lag [--rate 20000] [--seconds S]\n"
    "           relay --nats URL[,URL...] [--replicas 1,3] [--scale N] [--rate R] [--seconds S]\n"
    "  token    --key FILE --sub ID [--ttl SECONDS]         print a signed development token\n"
    "  grant    --data DIR --sub ID --role ROLE [--scope V] [--revoke]  record a grant offline\n"
    "  replay   --data DIR --rules FILE [--effective-from D] [--views a,b] [--until POS|TIME]\n"
    "           [--on DATE] [--format text|json] [--adopt]  what-if diff; --adopt switches the views\n"
    "  history  --data DIR PERSON [--as-of T] [--format text|json] [--master-key FILE]  a case history\n"
    "  loadgen  --target URL --token T --mix commands|queries (--rate R | --max) [--seconds S]\n"
    "  loadgen  --sink store --data DIR [--from D --to D] [--scale 1:N]  | --target URL --peak\n";

}  // namespace

int main(int argc, char** argv) {
  using namespace caseledger::app;
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "help") == 0) {
    std::cerr << kUsage;
    return argc < 2 ? 2 : 0;
  }
  const std::map<std::string, int (*)(const Args&)> commands = {
      {"serve", RunServe},     {"verify", RunVerify}, {"bench", RunBench},
      {"grant", RunGrant},     {"token", RunToken},   {"replay", RunReplay},
      {"history", RunHistory}, {"loadgen", RunLoadgen},
  };
  auto it = commands.find(argv[1]);
  if (it == commands.end()) return UsageError(std::string("unknown command '") + argv[1] + "'\n" + kUsage);
  Args args(argv + 2, argv + argc);
  try {
    return it->second(args);
  } catch (const std::exception& e) {
    return Failure(std::string("internal error: ") + e.what());
  }
}
