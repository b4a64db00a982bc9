// The command table: what each command says about itself. Keep a flag here in step with
// the command's own parser: main refuses flags not listed here, and the command refuses
// flags it does not know.
#include "app/command_table.h"

namespace caseledger::app {
namespace {

// Shared wording of flags several commands take.
constexpr FlagSpec kData{"data", "DIR", "the data directory (store, views, keys)"};
constexpr FlagSpec kReference{"reference", "DIR",
                              "reference data (ISTAT, DPC, ASL map); default $CASELEDGER_HOME/ops/reference, "
                              "else the source tree's"};
constexpr FlagSpec kFormatTable{"format", "table|tsv", "tsv: one tab-separated line per figure, for ops/bench"};
constexpr FlagSpec kFormatText{"format", "text|json", "output format (text)"};
constexpr FlagSpec kBenchDir{"data", "DIR", "where the throwaway stores go ($TMPDIR, else /tmp)"};

std::vector<CommandSpec> MakeCommands() {
  return {
      {"serve",
       "run the HTTP API over the store in DIR/store",
       {"--data DIR [--listen HOST:PORT] [--config FILE] [--auth-key FILE] [--master-key FILE]",
        "[--tls-cert FILE --tls-key FILE | --insecure] [--demo] [--nats URL[,URL...] [--nats-replicas N]]",
        "--replica-of URL[,URL...] --data DIR --listen HOST:PORT [--replica-name NAME] [--primary URL]"},
       {kData,
        {"listen", "HOST:PORT", "address to listen on (127.0.0.1:8080); port 0 picks a free one"},
        {"config", "FILE", "read these settings from a JSON file (docs/operations.md); flags win over it"},
        {"auth-key", "FILE", "HS256 key of the server's tokens (DIR/auth.key, created on first start)"},
        {"token-issuer", "ISS", "the iss the server's own tokens must carry (caseledger)"},
        {"token-audience", "AUD", "the aud the server's own tokens must carry (caseledger)"},
        {"master-key", "FILE", "key wrapping the per-person keys (DIR/master.key, created on first start)"},
        {"tls-cert", "FILE", "serve HTTPS with this certificate chain (PEM)"},
        {"tls-key", "FILE", "the certificate's private key (PEM)"},
        {"insecure", nullptr, "allow plain HTTP on a non-loopback address"},
        {"max-connections", "N", "connections served at once (0: half the descriptor limit, 16 to 10000)"},
        {"max-connections-per-client", "N", "connections per client address (256; 0: no cap)"},
        {"memory-budget", "MIB", "memory for the views' caches and a dry run's what-if (0: their defaults)"},
        {"jwt-public-key", "FILE", "an identity provider's public key (PEM); its tokens are accepted too"},
        {"jwt-public-key-alg", "RS256|ES256", "the algorithm that key is pinned to"},
        {"jwt-issuer", "ISS", "the iss the identity provider's tokens carry (caseledger)"},
        {"jwt-audience", "AUD", "the aud the identity provider's tokens carry (caseledger)"},
        {"jwt-jwks", "FILE", "the identity provider's JWK Set (RS256/ES256 keys); its tokens are accepted too"},
        {"jwt-jwks-uri", "URL", "the identity provider's jwks_uri: its keys fetched at start and kept current on rotation"},
        {"console-client-id", "ID", "the web console signs in at --jwt-issuer as this OpenID client (docs/console.md)"},
        kReference,
        {"rules", "DIR", "the shipped rule sets, recorded on a store's first start (ops/rules)"},
        {"log-level", "LEVEL", "trace, debug, info, warn, error or off (info)"},
        {"log-format", "text|json", "json: one JSON object per line (text)"},
        {"demo", nullptr, "load the demo workload into an empty store and print demo tokens"},
        {"nats", "URL[,URL...]", "relay the log to the JetStream stream CASELEDGER on these servers"},
        {"nats-replicas", "N", "replicas of the stream when the relay creates it, 1-5 (1)"},
        {"replica-of", "URL[,URL...]", "run as a read replica following the primary's stream on these servers"},
        {"replica-name", "NAME", "the replica's durable consumer (DIR/replica.name, created on first start)"},
        {"primary", "URL", "the primary's URL, named in a replica's 503 answers to commands"}},
       "Serves until SIGINT or SIGTERM; on SIGTERM it stops accepting, lets requests in flight "
       "finish and exits 0. Without --tls-cert it listens on a loopback address only, unless "
       "--insecure. A switch set in the config file is turned off by --SWITCH=false.",
       RunServe},
      {"verify",
       "check the hash chain, the stream index and every view",
       {"--data DIR [--chain-only] [--reference DIR]"},
       {kData, {"chain-only", nullptr, "only the chain, index and heads (read-only: runs beside a server)"},
        kReference},
       "Exit 0 when all is intact, 1 with the first broken position or view entry. The views "
       "part rebuilds every view from scratch and needs the store: stop the server first.",
       RunVerify},
      {"bench append",
       "durable append throughput and latency through the store API",
       {"[--seconds S] [--concurrency 1,16,64] [--runs N] [--data DIR] [--format table|tsv]"},
       {{"seconds", "S", "seconds per run (5)"},
        {"concurrency", "N[,N...]", "appender threads per level (1,16,64)"},
        {"runs", "N", "runs per level, each on a fresh store; medians are printed (3)"},
        kBenchDir, kFormatTable},
       "Prints, per level, the median rate, p50/p99 latency, bytes per event, the mean group "
       "commit and WAL sync, and the sync ceiling (appenders / mean sync).",
       RunBench},
      {"bench rebuild",
       "rebuild every view from scratch beside a raw scan of the same log",
       {"[--scale N] [--from D] [--to D] [--runs N] [--store DIR/store] [--compare] [--format table|tsv]"},
       {{"scale", "N", "the demo workload at 1:N (100)"},
        {"from", "DATE", "first day of the workload (2020-10-01)"},
        {"to", "DATE", "last day of the workload (2020-12-31)"},
        {"runs", "N", "rebuilds; the median is printed (3)"},
        {"store", "DIR", "a store loaded before (loadgen --sink store) instead of a generated one"},
        {"batch", "N", "events per views batch (2^17)"},
        {"until", "N", "rebuild the first N events only"},
        {"person-cache", "N", "person records kept in memory (0: all)"},
        {"compare", nullptr, "set the region view beside the scaled DPC bulletin of --from/--to/--scale"},
        {"sequential", nullptr, "read the log on the applying thread (no read-ahead)"},
        kBenchDir, kFormatTable},
       "",
       RunBench},
      {"bench lag",
       "projection lag while commands flow at a constant rate",
       {"[--rate 20000] [--seconds 10] [--appenders 64] [--format table|tsv]"},
       {{"rate", "N", "events per second offered, open loop (20000)"},
        {"seconds", "S", "measured seconds (10)"},
        {"warmup", "S", "seconds before measuring (1)"},
        {"appenders", "N", "appender threads (64)"},
        kBenchDir, kFormatTable},
       "The lag of an event runs from the group commit that made it durable to the publication "
       "of the views batch that applied it.",
       RunBench},
      {"bench relay",
       "NATS relay throughput and commit-to-replica-view lag",
       {"--nats URL[,URL...] [--replicas 1,3] [--scale N] [--rate R] [--seconds S] [--format table|tsv]"},
       {{"nats", "URL[,URL...]", "a throwaway NATS server or cluster with JetStream (required)"},
        {"replicas", "N[,N...]", "stream replica counts to measure (1,3)"},
        {"scale", "N", "the demo workload at 1:N (100)"},
        {"from", "DATE", "first day of the workload (2020-10-01)"},
        {"to", "DATE", "last day of the workload (2020-10-31)"},
        {"rate", "N", "events per second re-appended for the lag (1000)"},
        {"seconds", "S", "seconds of lag measurement (5)"},
        kBenchDir, kFormatTable},
       "Leaves its streams behind: give it a throwaway server (ops/bench does).",
       RunBench},
      {"token",
       "print a signed development token",
       {"--key FILE --sub ID [--ttl SECONDS] [--iss ISS] [--aud AUD]"},
       {{"key", "FILE", "the server's HS256 key (DIR/auth.key); must exist"},
        {"sub", "ID", "the subject: the user the grants are recorded for"},
        {"ttl", "SECONDS", "lifetime, 1 to 31622400 (3600)"},
        {"iss", "ISS", "issuer claim (caseledger)"},
        {"aud", "AUD", "audience claim (caseledger)"}},
       "The token says who the caller is; what they may do is the grants in the log "
       "(caseledger grant, POST /v1/grants).",
       RunToken},
      {"grant",
       "record a grant (or its revocation) offline",
       {"--data DIR --sub ID --role ROLE [--scope VALUE] [--revoke]"},
       {kData,
        {"sub", "ID", "the user"},
        {"role", "ROLE", "operator, lab, gp, school, mayor, auditor or admin"},
        {"scope", "VALUE", "ASL code, lab id, GP id, school code or ISTAT code; none for auditor and admin"},
        {"revoke", nullptr, "record AccessRevoked instead"},
        kReference},
       "For the first admin, before any token is accepted. The server must be stopped (the store "
       "admits one process); while serving, use POST /v1/grants.",
       RunGrant},
      {"replay",
       "what-if diff of a rule set over the log; --adopt records it",
       {"--data DIR --rules FILE [--effective-from DATE] [--views a,b] [--until POS|TIME] [--on DATE]",
        "[--full] [--memory-budget MIB] [--format text|json] [--adopt]"},
       {kData,
        {"rules", "FILE", "the candidate rule set (ops/rules/<id>.json form)"},
        {"effective-from", "DATE", "the day it takes effect (the set's own)"},
        {"views", "a,b", "only these views"},
        {"until", "POS|TIME", "replay the log up to this position or instant"},
        {"on", "DATE", "the day whose figures are compared"},
        {"full", nullptr, "rebuild both sides from position 1 instead of folding the affected people again"},
        {"memory-budget", "MIB", "memory the incremental what-if folds people in (256)"},
        kFormatText,
        {"adopt", nullptr, "record the set and switch the views blue-green (server stopped)"},
        kReference},
       "By default folds again, over the live views, only the people whose measures start on a "
       "day the candidate changes; --full (and --until) rebuild the views under both rule books "
       "in fresh directories. Prints the difference; touches nothing unless --adopt. While "
       "serving, adopt through POST /v1/rules.",
       RunReplay},
      {"history",
       "a person's case history with envelope metadata",
       {"--data DIR PERSON [--as-of TIME] [--format text|json] [--master-key FILE]"},
       {kData,
        {"as-of", "TIME", "as the registry knew it at this RFC 3339 instant"},
        kFormatText,
        {"master-key", "FILE", "opens personal fields (DIR/master.key when present)"}},
       "Corrections are linked to what they correct. Without the master key personal fields "
       "show as sealed, and as erased once the person's key was destroyed.",
       RunHistory},
      {"loadgen",
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
        kReference, kFormatTable},
       "Exit 0 when the load ran, whatever the server answered (errors are counted and printed).",
       RunLoadgen},
      {"import",
       "build the store from a legacy export (JSON lines of commands) in one bulk load",
       {"--data DIR --from FILE [--threads 2] [--max-errors 50] [--ids FILE] [--master-key FILE] [--format table|tsv]"},
       {kData,
        {"from", "FILE", "the export: one JSON object per line, {\"command\", \"recorded_at\", ...body} (docs/import.md)"},
        {"threads", "N", "threads parsing, hashing and writing besides the deciding one (2)"},
        {"max-errors", "N", "bad lines reported at most (50); any bad line refuses the whole import"},
        {"ids", "FILE", "write export key TAB person id for the people whose key was not a person id"},
        {"master-key", "FILE", "key wrapping the per-person keys (DIR/master.key, created when missing)"},
        kReference, kFormatTable},
       "Every line goes through Decide as its HTTP body would; the log, index, claims and keys are "
       "written as sorted files and ingested at once, hash chain intact. Exit 0 when imported, 1 "
       "when refused (each bad line named with its number and field; nothing is imported), 2 on "
       "a usage error. The server must be stopped.",
       RunImport},
  };
}

}  // namespace

const std::vector<CommandSpec>& Commands() {
  static const std::vector<CommandSpec> commands = MakeCommands();
  return commands;
}

}  // namespace caseledger::app
