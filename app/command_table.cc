// The command table: what each command says about itself. Keep a flag here in step with
// the command's own parser: main refuses flags not listed here, and the command refuses
// flags it does not know.
#include "app/command_table.h"

namespace caseledger::app {
namespace {

// Shared wording of flags several commands take.
constexpr FlagSpec kData{"data", "DIR", "the data directory (store, views, keys)"};
constexpr FlagSpec kReference = kReferenceFlag;
constexpr FlagSpec kFormatTable = kFormatTableFlag;
constexpr FlagSpec kFormatText{"format", "text|json", "output format (text)"};

Program MakeProgram() {
  Program program{"caseledger", "event-sourced COVID-19 case registry",
                  "caseledger keeps every registration, swab, lab result and quarantine or isolation "
                  "decision of a regional COVID-19 response as an immutable, hash-chained event in a "
                  "RocksDB log, serves an HTTP API over it and keeps read views (municipality, school, "
                  "GP, lab, region) that follow the log. Benchmarks, load and demo data come from "
                  "separate executables (caseledger-bench, caseledger-loadgen, caseledger-demo).",
                  ".TP\n/etc/caseledger/caseledger.json\nthe service's configuration (serve \\-\\-config)\n"
                  ".TP\n/var/lib/caseledger\nthe service's data directory\n",
                  {}};
  program.commands = {
      {"serve",
       "run the HTTP API over the store in DIR/store",
       {"--data DIR [--listen HOST:PORT] [--config FILE] [--auth-key FILE] [--master-key FILE]",
        "[--tls-cert FILE --tls-key FILE | --insecure] [--nats URL[,URL...] [--nats-replicas N]]",
        "--replica-of URL[,URL...] --data DIR --listen HOST:PORT [--replica-name NAME] [--primary URL]",
        "--standby-of URL[,URL...] --data DIR --listen HOST:PORT [--primary URL]"},
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
        {"min-free-bytes", "N[K|M|G]", "refuse writes (507) while the data volume has less free (64M; 0: none)"},
        {"memory-budget", "MIB", "memory budget of the store's and views' caches (640; 0: that), a dry run's what-if a quarter more"},
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
        {"nats", "URL[,URL...]", "relay the log to the JetStream stream CASELEDGER on these servers"},
        {"nats-replicas", "N", "replicas of the stream when the relay creates it, 1-5 (1)"},
        {"replica-of", "URL[,URL...]", "run as a read replica following the primary's stream on these servers"},
        {"replica-name", "NAME", "the replica's durable consumer (DIR/replica.name, created on first start)"},
        {"primary", "URL", "the primary's URL, named in a replica's or a standby's 503 answers to commands"},
        {"ship-standby", nullptr, "also ship the whole log to a warm standby (stream CASELEDGER_STANDBY on --nats)"},
        {"standby-of", "URL[,URL...]", "run as a warm standby of the primary shipping on these servers (docs/standby.md)"}},
       "Serves until SIGINT or SIGTERM; on SIGTERM it stops accepting, lets requests in flight "
       "finish and exits 0. Without --tls-cert it listens on a loopback address only, unless "
       "--insecure. A switch set in the config file is turned off by --SWITCH=false.",
       RunServe},
      {"verify",
       "check the hash chain, the stream index and every view",
       {"--data DIR [--chain-only] [--reference DIR]", "--backup DEST"},
       {kData, {"chain-only", nullptr, "only the chain, index and heads (read-only: runs beside a server)"},
        {"backup", "DEST", "check a backup directory instead: checksums, then the latest restored aside"},
        kReference},
       "Exit 0 when all is intact, 1 with the first broken position or view entry. The views "
       "part rebuilds every view from scratch and needs the store: stop the server first.",
       RunVerify},
      {"backup",
       "incremental online backup of the store and the access log",
       {"--data DIR --to DEST"},
       {kData, {"to", "DEST", "the backup directory (created; later backups share its unchanged files)"}},
       "While a server runs on DIR it takes the backup (asked over DIR/control.sock); else this "
       "process does. Every command acknowledged before the backup began is in it. The master key "
       "is not: keep it apart (docs/operations.md).",
       RunBackup},
      {"restore",
       "restore a backup into a new data directory, optionally to a point in time",
       {"--from DEST --data DIR [--to-position P | --to-time T] [--reference DIR]"},
       {{"from", "DEST", "a backup directory (caseledger backup --to)"},
        {"data", "DIR", "the data directory to create; must not hold a store"},
        {"to-position", "P", "cut the log after position P"},
        {"to-time", "T", "cut the log after the last event recorded at or before this RFC 3339 instant"},
        kReference},
       "Restores the latest backup, cuts the log when asked, walks the whole chain, checks the "
       "backup's tip and rebuilds the views. Copy the master key into DIR before serving.",
       RunRestore},
      {"promote",
       "turn a warm standby into the primary",
       {"--data DIR [--master-key FILE]"},
       {kData, {"master-key", "FILE", "the master key, when no server runs (DIR/master.key)"}},
       "While a standby server runs on DIR it is asked over DIR/control.sock: it applies what the "
       "stream still holds, checks the chain's tail, records the next epoch, publishes a fence that "
       "stops the old primary's writes, and accepts commands. With no server this process promotes "
       "the store (no fence). Exit 1 when DIR is not a standby.",
       RunPromote},
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
      {"import",
       "build the store from a legacy export (JSON lines of commands) in one bulk load",
       {"--data DIR --from FILE [--threads 2] [--max-errors 50] [--ids FILE] [--people-in-memory 262144] [--master-key FILE] [--format table|tsv]"},
       {kData,
        {"from", "FILE", "the export: one JSON object per line, {\"command\", \"recorded_at\", ...body} (docs/import.md)"},
        {"threads", "N", "threads parsing, hashing and writing besides the deciding one (2)"},
        {"max-errors", "N", "bad lines reported at most (50); any bad line refuses the whole import"},
        {"ids", "FILE", "write export key TAB person id for the people whose key was not a person id"},
        {"people-in-memory", "N", "people whose state is kept decoded (262144); the others wait in a file in DIR"},
        {"master-key", "FILE", "key wrapping the per-person keys (DIR/master.key, created when missing)"},
        kReference, kFormatTable},
       "Every line goes through Decide as its HTTP body would; the log, index, claims and keys are "
       "written as sorted files and ingested at once, hash chain intact. Exit 0 when imported, 1 "
       "when refused (each bad line named with its number and field; nothing is imported), 2 on "
       "a usage error. The server must be stopped.",
       RunImport},
  };
  return program;
}

}  // namespace

const Program& CaseledgerProgram() {
  static const Program program = MakeProgram();
  return program;
}

}  // namespace caseledger::app
