// serve --config: the shipped examples, precedence over defaults and under flags, every
// error path, and the shipped systemd unit (ops/systemd/caseledger.service).
#include "app/serve_config.h"

#include "app/flags.h"
#include "app/serve_nats.h"
#include "tests/support/temp_dir.h"
#include "tests/support/build_paths.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace caseledger::app {
namespace {

using Args = std::vector<std::string>;

const std::string kOps = caseledger::TestSourceDir() + "/ops";
const std::string kExample = kOps + "/config/caseledger.example.json";
const std::string kReplicaExample = kOps + "/config/caseledger-replica.example.json";
const std::string kStandbyExample = kOps + "/config/caseledger-standby.example.json";
const std::string kUnit = kOps + "/systemd/caseledger.service";

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

Flags ServeFlags(const Args& args) {
  std::set<std::string> known(std::begin(kServeFlags), std::end(kServeFlags));
  known.insert(std::begin(kNatsFlags), std::end(kNatsFlags));
  return Flags(args, known, {std::begin(kServeSwitches), std::end(kServeSwitches)});
}

// The error of parsing `text` as /etc/cl.json, or "" when it parses.
std::string ErrorOf(const std::string& text) {
  std::string error;
  auto r = ParseServeConfig(text, "/etc/cl.json", &error);
  return r ? "" : error;
}

TEST(ServeConfigTest, ConnectionLimitsAreCounts) {
  EXPECT_EQ(ErrorOf(R"({"limits": {"max_connections": 0, "max_connections_per_client": 1000000}})"), "");
  EXPECT_EQ(ErrorOf(R"({"limits": {"max_connections": -1}})"), "/etc/cl.json: limits.max_connections: must be 0 to 1000000");
  EXPECT_EQ(ErrorOf(R"({"limits": {"max_connections_per_client": 1000001}})"),
            "/etc/cl.json: limits.max_connections_per_client: must be 0 to 1000000");
  EXPECT_EQ(ErrorOf(R"({"limits": {"max_connections": "many"}})"), "/etc/cl.json: limits.max_connections: must be an integer");
  EXPECT_EQ(ParseCount("4096"), 4096u);
  EXPECT_FALSE(ParseCount("-1"));
  EXPECT_FALSE(ParseCount("1e3"));
  EXPECT_FALSE(ParseCount(""));
}

TEST(ServeConfigTest, ShippedExampleParsesToServesFlags) {
  std::string error;
  auto args = LoadServeConfig(kExample, &error);
  ASSERT_TRUE(args) << error;
  EXPECT_EQ(*args, (Args{
                       "--data=/var/lib/caseledger",
                       "--listen=0.0.0.0:8443",
                       "--tls-cert=/etc/caseledger/tls/cert.pem",
                       "--tls-key=/etc/caseledger/tls/key.pem",
                       "--auth-key=/etc/caseledger/auth.key",
                       "--token-issuer=caseledger",
                       "--token-audience=caseledger",
                       "--jwt-public-key=/etc/caseledger/idp-public.pem",
                       "--jwt-public-key-alg=RS256",
                       "--jwt-issuer=https://idp.example.org/realms/regione",
                       "--jwt-audience=caseledger",
                       "--jwt-jwks=/etc/caseledger/idp-jwks.json",
                       "--jwt-jwks-uri=https://idp.example.org/realms/regione/protocol/openid-connect/certs",
                       "--console-client-id=caseledger-console",
                       "--master-key=/etc/caseledger/master.key",
                       "--reference=/usr/local/share/caseledger/reference",
                       "--rules=/usr/local/share/caseledger/rules",
                       "--nats=nats://10.0.0.11:4222,nats://10.0.0.12:4222,nats://10.0.0.13:4222",
                       "--nats-replicas=3",
                       "--ship-standby",
                       "--log-level=info",
                       "--log-format=json",
                       "--max-connections=20000",
                       "--max-connections-per-client=256",
                       "--min-free-bytes=256M",
                       "--memory-budget=1024",
                   }));
  // What serve reads from them.
  Flags flags = ServeFlags(*args);
  ASSERT_TRUE(flags.ok()) << flags.error();
  EXPECT_EQ(flags.GetOr("listen", ""), "0.0.0.0:8443");
  EXPECT_FALSE(flags.Has("insecure"));
}

TEST(ServeConfigTest, ShippedReplicaExampleParsesToServesFlags) {
  std::string error;
  auto args = LoadServeConfig(kReplicaExample, &error);
  ASSERT_TRUE(args) << error;
  EXPECT_EQ(*args, (Args{
                       "--data=/var/lib/caseledger",
                       "--listen=0.0.0.0:8443",
                       "--tls-cert=/etc/caseledger/tls/cert.pem",
                       "--tls-key=/etc/caseledger/tls/key.pem",
                       "--auth-key=/etc/caseledger/auth.key",
                       "--reference=/usr/local/share/caseledger/reference",
                       "--rules=/usr/local/share/caseledger/rules",
                       "--replica-of=nats://10.0.0.11:4222,nats://10.0.0.12:4222,nats://10.0.0.13:4222",
                       "--replica-name=replica-b",
                       "--primary=https://caseledger-a.example.org:8443",
                   }));
}

TEST(ServeConfigTest, ShippedStandbyExampleParsesToServesFlags) {
  std::string error;
  auto args = LoadServeConfig(kStandbyExample, &error);
  ASSERT_TRUE(args) << error;
  EXPECT_EQ(*args, (Args{
                       "--data=/var/lib/caseledger",
                       "--listen=0.0.0.0:8443",
                       "--tls-cert=/etc/caseledger/tls/cert.pem",
                       "--tls-key=/etc/caseledger/tls/key.pem",
                       "--auth-key=/etc/caseledger/auth.key",
                       "--master-key=/etc/caseledger/master.key",
                       "--standby-of=nats://10.0.0.11:4222,nats://10.0.0.12:4222,nats://10.0.0.13:4222",
                       "--primary=https://caseledger-a.example.org:8443",
                   }));
}

void CollectKeys(const boost::json::object& o, const std::string& prefix, std::set<std::string>& out) {
  for (const auto& [name, value] : o) {
    if (name == "_comment") continue;
    const std::string dotted = prefix + std::string(name);
    if (value.is_object()) {
      CollectKeys(value.get_object(), dotted + ".", out);
    } else {
      out.insert(dotted);
    }
  }
}

TEST(ServeConfigTest, ExamplesTogetherShowEveryKeyAndEveryFlagHasOne) {
  std::set<std::string> shown, table, flags_with_keys;
  for (const auto& file : {kExample, kReplicaExample, kStandbyExample}) {
    CollectKeys(boost::json::parse(Slurp(file)).as_object(), "", shown);
  }
  for (const ConfigKey& k : kServeConfigKeys) {
    table.insert(k.key);
    EXPECT_TRUE(flags_with_keys.insert(k.flag).second) << k.flag << " has two keys";
  }
  EXPECT_EQ(shown, table);
  std::set<std::string> serve_flags(std::begin(kServeFlags), std::end(kServeFlags));
  serve_flags.insert(std::begin(kNatsFlags), std::end(kNatsFlags));
  serve_flags.insert(std::begin(kServeSwitches), std::end(kServeSwitches));
  serve_flags.erase("config");
  EXPECT_EQ(flags_with_keys, serve_flags);
}

TEST(ServeConfigTest, CommandLineWinsOverFileAndFileOverDefault) {
  std::string error;
  auto file = ParseServeConfig(
      R"({"data": "/srv/cl", "listen": "127.0.0.1:9000", "insecure": true,
          "auth": {"key_file": "/etc/cl/auth.key"}})",
      "/etc/cl/cl.json", &error);
  ASSERT_TRUE(file) << error;
  Flags flags = ServeFlags(WithConfig(*file, {"--config", "/etc/cl/cl.json", "--listen", "127.0.0.1:9001",
                                              "--auth-key=/tmp/other.key"}));
  ASSERT_TRUE(flags.ok()) << flags.error();
  EXPECT_EQ(flags.GetOr("listen", ""), "127.0.0.1:9001");          // flag over file
  EXPECT_EQ(flags.GetOr("auth-key", ""), "/tmp/other.key");        // flag over file
  EXPECT_EQ(flags.GetOr("data", "./data"), "/srv/cl");             // file over default
  EXPECT_TRUE(flags.Has("insecure"));                               // a switch from the file
  EXPECT_EQ(flags.GetOr("rules", "DEFAULT"), "DEFAULT");           // neither: the default
  // A switch from the file is turned off on the command line.
  Flags off = ServeFlags(WithConfig(*file, {"--insecure=false"}));
  ASSERT_TRUE(off.ok()) << off.error();
  EXPECT_FALSE(off.Has("insecure"));
  EXPECT_EQ(off.GetOr("data", ""), "/srv/cl");
}

TEST(ServeConfigTest, RelativePathsResolveAgainstTheFilesDirectory) {
  std::string error;
  auto args = ParseServeConfig(
      R"({"data": "data", "tls": {"cert_file": "../tls/cert.pem", "key_file": "/abs/key.pem"},
          "replica": {"of": ["nats://n1:4222"], "primary": "relative-is-not-a-path"}})",
      "/etc/caseledger/caseledger.json", &error);
  ASSERT_TRUE(args) << error;
  EXPECT_EQ(*args, (Args{"--data=/etc/caseledger/data", "--tls-cert=/etc/tls/cert.pem",
                         "--tls-key=/abs/key.pem", "--replica-of=nats://n1:4222",
                         "--primary=relative-is-not-a-path"}));
}

TEST(ServeConfigTest, EmptyObjectAndCommentsSetNothing) {
  std::string error;
  auto args = ParseServeConfig(R"({"_comment": "x", "auth": {"_comment": ["a", "b"]}, "insecure": false})",
                               "/etc/cl.json", &error);
  ASSERT_TRUE(args) << error;
  EXPECT_TRUE(args->empty());
}

TEST(ServeConfigTest, MalformedDocumentsNameTheFileAndWhere) {
  EXPECT_EQ(ErrorOf("{\n  \"data\": \"/x\",\n  oops\n}").rfind("/etc/cl.json:3:3: not JSON: ", 0), 0u)
      << ErrorOf("{\n  \"data\": \"/x\",\n  oops\n}");
  EXPECT_EQ(ErrorOf(R"({"data": "/x"} {"listen": "0.0.0.0:1"})").rfind("/etc/cl.json:1:16: not JSON: ", 0), 0u)
      << ErrorOf(R"({"data": "/x"} {"listen": "0.0.0.0:1"})");
  EXPECT_EQ(ErrorOf("").rfind("/etc/cl.json:1:1: not JSON: ", 0), 0u) << ErrorOf("");
  EXPECT_EQ(ErrorOf("{\"data\": \"/x\" // comment\n}").rfind("/etc/cl.json:1:15: not JSON: ", 0), 0u);
  EXPECT_EQ(ErrorOf(R"(["data"])"), "/etc/cl.json: must hold one JSON object");
}

TEST(ServeConfigTest, UnknownKeysAreNamedWithTheirGroup) {
  EXPECT_EQ(ErrorOf(R"({"datadir": "/x"})"), "/etc/cl.json: datadir: unknown key");
  EXPECT_EQ(ErrorOf(R"({"auth": {"keyfile": "/x"}})"), "/etc/cl.json: auth.keyfile: unknown key");
  EXPECT_EQ(ErrorOf(R"({"auth": {"idp": {"alg": "RS256"}}})"), "/etc/cl.json: auth.idp.alg: unknown key");
  EXPECT_EQ(ErrorOf(R"({"auth.key_file": "/x"})"),
            "/etc/cl.json: auth.key_file: unknown key (a group is an object: {\"auth\": {\"key_file\": ...}})");
  EXPECT_EQ(ErrorOf(R"({"data": {"dir": "/x"}})"), "/etc/cl.json: data: must be a string");
  EXPECT_EQ(ErrorOf(R"({"auth": "/x"})"), "/etc/cl.json: auth: must be an object (a group of keys)");
}

TEST(ServeConfigTest, WrongTypesAreNamed) {
  EXPECT_EQ(ErrorOf(R"({"data": 3})"), "/etc/cl.json: data: must be a string");
  EXPECT_EQ(ErrorOf(R"({"listen": null})"), "/etc/cl.json: listen: must be a string");
  EXPECT_EQ(ErrorOf(R"({"insecure": 1})"), "/etc/cl.json: insecure: must be true or false");
  EXPECT_EQ(ErrorOf(R"({"nats": {"urls": "nats://a:4222"}})"),
            "/etc/cl.json: nats.urls: must be an array of nats:// URLs");
  EXPECT_EQ(ErrorOf(R"({"replica": {"of": ["nats://a:4222", 4]}})"),
            "/etc/cl.json: replica.of: must be an array of nats:// URLs");
  EXPECT_EQ(ErrorOf(R"({"nats": {"replicas": "3"}})"), "/etc/cl.json: nats.replicas: must be an integer");
  EXPECT_EQ(ErrorOf(R"({"nats": {"replicas": 3.0}})"), "/etc/cl.json: nats.replicas: must be an integer");
  EXPECT_EQ(ErrorOf(R"({"auth": {"idp": {"issuer": true}}})"), "/etc/cl.json: auth.idp.issuer: must be a string");
  EXPECT_EQ(ErrorOf(R"({"_comment": 7})"), "/etc/cl.json: _comment: must be a string or an array of strings");
  EXPECT_EQ(ErrorOf(R"({"tls": {"_comment": [1]}})"),
            "/etc/cl.json: tls._comment: must be a string or an array of strings");
}

TEST(ServeConfigTest, BadValuesAreNamed) {
  EXPECT_EQ(ErrorOf(R"({"data": ""})"), "/etc/cl.json: data: must not be empty");
  EXPECT_EQ(ErrorOf(R"({"replica": {"primary": ""}})"), "/etc/cl.json: replica.primary: must not be empty");
  EXPECT_EQ(ErrorOf(R"({"listen": "8080"})"), "/etc/cl.json: listen: must be HOST:PORT, not '8080'");
  EXPECT_EQ(ErrorOf(R"({"listen": "0.0.0.0:70000"})"),
            "/etc/cl.json: listen: must be HOST:PORT, not '0.0.0.0:70000'");
  EXPECT_EQ(ErrorOf(R"({"listen": ":8080"})"), "/etc/cl.json: listen: must be HOST:PORT, not ':8080'");
  EXPECT_EQ(ErrorOf(R"({"listen": "a\nb"})"), "/etc/cl.json: listen: must be HOST:PORT, not 'a?b'");  // one line
  EXPECT_EQ(ErrorOf(R"({"nats": {"urls": []}})"), "/etc/cl.json: nats.urls: must name at least one nats:// URL");
  EXPECT_EQ(ErrorOf(R"({"nats": {"urls": ["tls://a:4222"]}})"),
            "/etc/cl.json: nats.urls: 'tls://a:4222' is not a nats://HOST:PORT URL");
  EXPECT_EQ(ErrorOf(R"({"replica": {"of": ["nats://a:1,nats://b:2"]}})"),
            "/etc/cl.json: replica.of: 'nats://a:1,nats://b:2' is not a nats://HOST:PORT URL");
  EXPECT_EQ(ErrorOf(R"({"nats": {"replicas": 0}})"), "/etc/cl.json: nats.replicas: must be 1 to 5");
  EXPECT_EQ(ErrorOf(R"({"nats": {"replicas": 6}})"), "/etc/cl.json: nats.replicas: must be 1 to 5");
  EXPECT_EQ(ErrorOf(R"({"nats": {"replicas": -1}})"), "/etc/cl.json: nats.replicas: must be 1 to 5");
  EXPECT_EQ(ErrorOf(R"({"nats": {"replicas": 18446744073709551615}})"),
            "/etc/cl.json: nats.replicas: must be 1 to 5");
  EXPECT_EQ(ErrorOf(R"({"replica": {"name": "b/c"}})"),
            "/etc/cl.json: replica.name: takes letters, digits, '-' and '_' (at most 64)");
  EXPECT_EQ(ErrorOf(R"({"auth": {"idp": {"algorithm": "HS256"}}})"),
            "/etc/cl.json: auth.idp.algorithm: must be \"RS256\" or \"ES256\"");
  EXPECT_EQ(ErrorOf(R"({"log": {"level": "verbose"}})"),
            "/etc/cl.json: log.level: must be trace, debug, info, warn, error or off");
  EXPECT_EQ(ErrorOf(R"({"log": {"format": "JSON"}})"), "/etc/cl.json: log.format: must be \"text\" or \"json\"");
}

TEST(ServeConfigTest, UnreadableFilesAreNamed) {
  testing::TempDir dir;
  std::string error;
  EXPECT_FALSE(LoadServeConfig(dir.Sub("missing.json"), &error));
  EXPECT_EQ(error, "cannot read config " + dir.Sub("missing.json") + ": no such readable file");
  EXPECT_FALSE(LoadServeConfig(dir.path(), &error));
  EXPECT_EQ(error, "cannot read config " + dir.path() + ": is a directory");
  std::ofstream(dir.Sub("bad.json")) << R"({"listen": "nowhere"})";
  EXPECT_FALSE(LoadServeConfig(dir.Sub("bad.json"), &error));
  EXPECT_EQ(error, dir.Sub("bad.json") + ": listen: must be HOST:PORT, not 'nowhere'");
}

// The unit as systemd reads it: section -> key -> values (a key may repeat).
using Unit = std::map<std::string, std::multimap<std::string, std::string>>;

Unit ParseUnit(const std::string& text, std::string* error) {
  Unit unit;
  std::string section, line;
  std::istringstream in(text);
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = line.substr(1, line.size() - 2);
      unit[section];
      continue;
    }
    auto eq = line.find('=');
    if (section.empty() || eq == std::string::npos || eq == 0 || line.back() == '\\') {
      *error = "line " + std::to_string(n) + ": " + line;
      return {};
    }
    unit[section].emplace(line.substr(0, eq), line.substr(eq + 1));
  }
  return unit;
}

std::string One(const Unit& unit, const std::string& section, const std::string& key) {
  auto s = unit.find(section);
  if (s == unit.end() || s->second.count(key) != 1) return "<" + key + " not set once>";
  return s->second.find(key)->second;
}

TEST(ServeConfigTest, ShippedUnitRunsServeWithTheExampleConfigsPathsHardened) {
  std::string error;
  Unit unit = ParseUnit(Slurp(kUnit), &error);
  ASSERT_TRUE(error.empty()) << error;
  std::set<std::string> sections;
  for (const auto& [name, keys] : unit) sections.insert(name);
  EXPECT_EQ(sections, (std::set<std::string>{"Unit", "Service", "Install"}));
  EXPECT_EQ(One(unit, "Service", "ExecStart"),
            "/usr/local/bin/caseledger serve --config /etc/caseledger/caseledger.json");
  // The example's data directory is the one place the service may write.
  auto example = boost::json::parse(Slurp(kExample)).as_object();
  const std::string data(example.at("data").as_string());
  EXPECT_EQ(One(unit, "Service", "ReadWritePaths"), data);
  EXPECT_EQ("/var/lib/" + One(unit, "Service", "StateDirectory"), data);
  EXPECT_EQ(One(unit, "Service", "User"), "caseledger");
  EXPECT_EQ(One(unit, "Service", "Restart"), "on-failure");
  EXPECT_EQ(One(unit, "Service", "RestartPreventExitStatus"), "2");  // usage errors do not loop
  for (const char* key : {"ProtectSystem", "NoNewPrivileges", "PrivateTmp", "ProtectHome", "PrivateDevices"}) {
    EXPECT_NE(One(unit, "Service", key).front(), '<') << key;
  }
  EXPECT_EQ(One(unit, "Service", "ProtectSystem"), "strict");
  EXPECT_EQ(One(unit, "Service", "NoNewPrivileges"), "yes");
  EXPECT_GE(std::stoi(One(unit, "Service", "LimitNOFILE")), 4096);
  // The stop timeout leaves room for the server's 10 s grace period (api/server.h).
  EXPECT_GT(std::stoi(One(unit, "Service", "TimeoutStopSec")), 10);
  EXPECT_EQ(One(unit, "Install", "WantedBy"), "multi-user.target");
}

#ifdef CASELEDGER_SYSTEMD_ANALYZE
// Registered only when CMake found systemd-analyze (it says so when it did not). verify
// wants ExecStart's binary to exist, so the copy checked names /bin/true; any warning
// (unknown key, bad value) fails the test, since verify itself exits 0 on those.
TEST(ServeConfigTest, ShippedUnitPassesSystemdAnalyzeVerify) {
  testing::TempDir dir;
  std::string unit = Slurp(kUnit);
  const std::string binary = "/usr/local/bin/caseledger";
  ASSERT_NE(unit.find(binary), std::string::npos);
  unit.replace(unit.find(binary), binary.size(), "/bin/true");
  std::ofstream(dir.Sub("caseledger.service")) << unit;
  const std::string command = std::string(CASELEDGER_SYSTEMD_ANALYZE) + " verify " +
                              dir.Sub("caseledger.service") + " > " + dir.Sub("out.txt") + " 2>&1";
  const int status = std::system(command.c_str());
  EXPECT_EQ(status, 0) << Slurp(dir.Sub("out.txt"));
  EXPECT_EQ(Slurp(dir.Sub("out.txt")), "");
}
#endif

}  // namespace
}  // namespace caseledger::app
