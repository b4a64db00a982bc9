// serve's configuration file (`caseledger serve --config FILE`, docs/operations.md).
//
// The file is one JSON object (strict JSON, no comments) whose keys are serve's flags,
// grouped: `auth.key_file` is {"auth": {"key_file": ...}} and stands for --auth-key. The
// table below (kServeConfigKeys) is the whole format; docs/operations.md
// documents it. Every object may also hold "_comment" (a string or an array of strings),
// which is ignored. Relative paths in the file resolve against the file's directory.
//
// A setting given on the command line wins over the file, the file over serve's default;
// a switch (`insecure`) set true in the file is turned off by `--insecure=false`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace caseledger::app {

enum class ConfigValueKind {
  kPath,      // non-empty string; relative: against the file's directory
  kListen,    // "HOST:PORT" (IPv6 as "[::1]:8080")
  kString,    // non-empty string
  kBool,      // true/false; true stands for the switch, false for its absence
  kNatsUrls,  // non-empty array of "nats://HOST:PORT" strings (the flag's comma list)
  kReplicas,  // integer 1 to 5
  kConsumer,  // JetStream consumer name: letters, digits, '-', '_', at most 64
  kAlgorithm, // "RS256" or "ES256"
  kLogLevel,  // "trace", "debug", "info", "warn", "error", "off"
  kLogFormat, // "text" or "json"
  kCount,     // integer 0 to 1,000,000 (0: the flag's own meaning, see its row)
  kBytes,     // integer bytes, or a string with a K, M, G or T suffix (ParseBytes)
};

struct ConfigKey {
  const char* key;   // dotted: "auth.key_file"
  const char* flag;  // serve's flag without dashes: "auth-key"
  ConfigValueKind kind;
};

// serve's own flags that take a value, and its switches (serve_nats.h adds kNatsFlags).
// Each but "config" has its key in kServeConfigKeys (serve_config_test checks it).
inline const char* const kServeFlags[] = {"data",     "listen",         "config",         "auth-key",
                                          "reference", "rules",         "master-key",     "tls-cert",
                                          "tls-key",  "jwt-public-key", "jwt-public-key-alg",
                                          "jwt-issuer", "jwt-audience", "token-issuer",
                                          "token-audience", "log-level", "log-format",
                                          "jwt-jwks", "jwt-jwks-uri", "console-client-id",
                                          "max-connections", "max-connections-per-client",
                                          "min-free-bytes", "memory-budget"};
inline const char* const kServeSwitches[] = {"insecure", "ship-standby"};

// Every key the file may hold, in the order of docs/operations.md's table.
extern const std::vector<ConfigKey> kServeConfigKeys;

// "HOST:PORT" with a non-empty host (brackets of an IPv6 literal removed) and a port
// 0-65535; false when it is not that.
bool ParseListen(const std::string& listen, std::string& host, uint16_t& port);

// A kCount value given as a flag: decimal digits, 0 to 1,000,000.
std::optional<size_t> ParseCount(const std::string& text);
// A kBytes value: decimal digits with an optional K, M, G or T (powers of 1024), at most 2^60.
std::optional<uint64_t> ParseBytes(const std::string& text);

// Reads the file at `path` and returns the flags it sets as "--name=value" arguments, in
// kServeConfigKeys order (a switch set false yields nothing). nullopt with a one-line
// `error` ("FILE: KEY: why", "FILE:LINE:COLUMN: not JSON: why", "cannot read FILE: why")
// on an unreadable file, malformed JSON, an unknown key, a value of the wrong type or a bad
// value; serve answers each with exit code 2.
std::optional<std::vector<std::string>> LoadServeConfig(const std::string& path, std::string* error);

// The same for a document already read; `path` names it in errors and its directory is the
// base of relative paths.
std::optional<std::vector<std::string>> ParseServeConfig(const std::string& text, const std::string& path,
                                                         std::string* error);

// The arguments serve parses: the file's first, the command line's after them, so that a
// flag given on both (Flags keeps the last value) comes from the command line.
std::vector<std::string> WithConfig(const std::vector<std::string>& from_file,
                                    const std::vector<std::string>& command_line);

}  // namespace caseledger::app
