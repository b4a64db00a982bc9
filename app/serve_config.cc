#include "app/serve_config.h"

#include "app/log_setup.h"

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace caseledger::app {

namespace json = boost::json;
namespace fs = std::filesystem;

const std::vector<ConfigKey> kServeConfigKeys = {
    {"data", "data", ConfigValueKind::kPath},
    {"listen", "listen", ConfigValueKind::kListen},
    {"insecure", "insecure", ConfigValueKind::kBool},
    {"tls.cert_file", "tls-cert", ConfigValueKind::kPath},
    {"tls.key_file", "tls-key", ConfigValueKind::kPath},
    {"auth.key_file", "auth-key", ConfigValueKind::kPath},
    {"auth.issuer", "token-issuer", ConfigValueKind::kString},
    {"auth.audience", "token-audience", ConfigValueKind::kString},
    {"auth.idp.public_key_file", "jwt-public-key", ConfigValueKind::kPath},
    {"auth.idp.algorithm", "jwt-public-key-alg", ConfigValueKind::kAlgorithm},
    {"auth.idp.issuer", "jwt-issuer", ConfigValueKind::kString},
    {"auth.idp.audience", "jwt-audience", ConfigValueKind::kString},
    {"auth.idp.jwks_file", "jwt-jwks", ConfigValueKind::kPath},
    {"auth.idp.jwks_uri", "jwt-jwks-uri", ConfigValueKind::kString},
    {"console.client_id", "console-client-id", ConfigValueKind::kString},
    {"personal_data.master_key_file", "master-key", ConfigValueKind::kPath},
    {"reference", "reference", ConfigValueKind::kPath},
    {"rules", "rules", ConfigValueKind::kPath},
    {"nats.urls", "nats", ConfigValueKind::kNatsUrls},
    {"nats.replicas", "nats-replicas", ConfigValueKind::kReplicas},
    {"nats.ship_standby", "ship-standby", ConfigValueKind::kBool},
    {"standby.of", "standby-of", ConfigValueKind::kNatsUrls},
    {"replica.of", "replica-of", ConfigValueKind::kNatsUrls},
    {"replica.name", "replica-name", ConfigValueKind::kConsumer},
    {"replica.primary", "primary", ConfigValueKind::kString},
    {"log.level", "log-level", ConfigValueKind::kLogLevel},
    {"log.format", "log-format", ConfigValueKind::kLogFormat},
    {"limits.max_connections", "max-connections", ConfigValueKind::kCount},
    {"limits.max_connections_per_client", "max-connections-per-client", ConfigValueKind::kCount},
    {"storage.min_free_bytes", "min-free-bytes", ConfigValueKind::kBytes},
    {"limits.memory_budget_mib", "memory-budget", ConfigValueKind::kCount},
};

bool ParseListen(const std::string& listen, std::string& host, uint16_t& port) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) return false;
  host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string p = listen.substr(colon + 1);
  auto r = std::from_chars(p.data(), p.data() + p.size(), port);
  return r.ec == std::errc{} && r.ptr == p.data() + p.size() && !host.empty();
}

std::optional<size_t> ParseCount(const std::string& text) {
  size_t n = 0;
  auto r = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || r.ec != std::errc{} || r.ptr != text.data() + text.size() || n > 1'000'000) {
    return std::nullopt;
  }
  return n;
}

std::optional<uint64_t> ParseBytes(const std::string& text) {
  uint64_t n = 0;
  auto r = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || r.ec != std::errc{}) return std::nullopt;
  const std::string_view unit(r.ptr, text.data() + text.size() - r.ptr);
  int shift = unit.empty() ? 0 : unit == "K" ? 10 : unit == "M" ? 20 : unit == "G" ? 30 : unit == "T" ? 40 : -1;
  if (shift < 0 || n > (uint64_t{1} << (60 - shift))) return std::nullopt;
  return n << shift;
}

namespace {

constexpr char kComment[] = "_comment";

struct Walk {
  const std::string& path;
  fs::path base;  // the file's directory
  std::vector<std::pair<const ConfigKey*, std::string>> found;  // key, flag value
  std::string error;

  bool Fail(const std::string& key, const std::string& why) {
    error = path + ": " + key + ": " + why;
    // One line on stderr, whatever a quoted value or key held.
    for (char& c : error) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    }
    return false;
  }

  static bool IsComment(const json::value& v) {
    if (v.is_string()) return true;
    if (!v.is_array()) return false;
    const json::array& a = v.get_array();
    return std::all_of(a.begin(), a.end(), [](const json::value& e) { return e.is_string(); });
  }

  static bool IsGroup(const std::string& dotted) {
    return std::any_of(kServeConfigKeys.begin(), kServeConfigKeys.end(),
                       [&](const ConfigKey& k) { return std::string_view(k.key).starts_with(dotted + "."); });
  }

  bool Object(const json::object& object, const std::string& prefix) {
    for (const auto& [name, value] : object) {
      const std::string dotted = prefix + std::string(name);
      if (name == kComment) {
        if (!IsComment(value)) return Fail(dotted, "must be a string or an array of strings");
        continue;
      }
      if (name.find('.') != json::string_view::npos) {
        const std::string n(name);
        const size_t dot = n.find('.');
        return Fail(dotted, "unknown key (a group is an object: {\"" + n.substr(0, dot) + "\": {\"" +
                                n.substr(dot + 1) + "\": ...}})");
      }
      auto it = std::find_if(kServeConfigKeys.begin(), kServeConfigKeys.end(),
                             [&](const ConfigKey& k) { return dotted == k.key; });
      if (it != kServeConfigKeys.end()) {
        if (!Value(*it, value)) return false;
      } else if (IsGroup(dotted)) {
        if (!value.is_object()) return Fail(dotted, "must be an object (a group of keys)");
        if (!Object(value.get_object(), dotted + ".")) return false;
      } else {
        return Fail(dotted, "unknown key");
      }
    }
    return true;
  }

  bool Value(const ConfigKey& key, const json::value& value) {
    switch (key.kind) {
      case ConfigValueKind::kBool:
        if (!value.is_bool()) return Fail(key.key, "must be true or false");
        if (value.get_bool()) found.emplace_back(&key, "");
        return true;
      case ConfigValueKind::kReplicas: {
        const auto n = value.if_int64();
        const auto u = value.if_uint64();
        if (!n && !u) return Fail(key.key, "must be an integer");
        if ((n && (*n < 1 || *n > 5)) || (u && (*u < 1 || *u > 5))) return Fail(key.key, "must be 1 to 5");
        found.emplace_back(&key, std::to_string(n ? *n : static_cast<int64_t>(*u)));
        return true;
      }
      case ConfigValueKind::kCount: {
        const auto n = value.if_int64();
        const auto u = value.if_uint64();
        if (!n && !u) return Fail(key.key, "must be an integer");
        if ((n && (*n < 0 || *n > 1'000'000)) || (u && *u > 1'000'000)) return Fail(key.key, "must be 0 to 1000000");
        found.emplace_back(&key, std::to_string(n ? *n : static_cast<int64_t>(*u)));
        return true;
      }
      case ConfigValueKind::kBytes: {
        const auto u = value.if_uint64();
        const auto n = value.if_int64();
        std::string text = u ? std::to_string(*u) : n ? std::to_string(*n) : value.is_string() ? std::string(value.get_string()) : "";
        if (!ParseBytes(text)) return Fail(key.key, "must be a byte count (e.g. 268435456 or \"256M\")");
        found.emplace_back(&key, text);
        return true;
      }
      case ConfigValueKind::kNatsUrls: {
        if (!value.is_array()) return Fail(key.key, "must be an array of nats:// URLs");
        std::string joined;
        for (const json::value& u : value.get_array()) {
          if (!u.is_string()) return Fail(key.key, "must be an array of nats:// URLs");
          const std::string url(u.get_string());
          if (!url.starts_with("nats://") || url.size() == 7 || url.find(',') != std::string::npos) {
            return Fail(key.key, "'" + url + "' is not a nats://HOST:PORT URL");
          }
          joined += (joined.empty() ? "" : ",") + url;
        }
        if (joined.empty()) return Fail(key.key, "must name at least one nats:// URL");
        found.emplace_back(&key, joined);
        return true;
      }
      default:
        break;
    }
    if (!value.is_string()) return Fail(key.key, "must be a string");
    std::string text(value.get_string());
    if (text.empty()) return Fail(key.key, "must not be empty");
    switch (key.kind) {
      case ConfigValueKind::kPath:
        if (fs::path(text).is_relative()) text = (base / text).lexically_normal().string();
        break;
      case ConfigValueKind::kListen: {
        std::string host;
        uint16_t port = 0;
        if (!ParseListen(text, host, port)) return Fail(key.key, "must be HOST:PORT, not '" + text + "'");
        break;
      }
      case ConfigValueKind::kConsumer:
        if (text.size() > 64 || !std::all_of(text.begin(), text.end(), [](char c) {
              return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
            })) {
          return Fail(key.key, "takes letters, digits, '-' and '_' (at most 64)");
        }
        break;
      case ConfigValueKind::kAlgorithm:
        if (text != "RS256" && text != "ES256") return Fail(key.key, "must be \"RS256\" or \"ES256\"");
        break;
      case ConfigValueKind::kLogLevel:
        if (!ParseLogLevel(text)) return Fail(key.key, "must be trace, debug, info, warn, error or off");
        break;
      case ConfigValueKind::kLogFormat:
        if (!ParseLogFormat(text)) return Fail(key.key, "must be \"text\" or \"json\"");
        break;
      default:
        break;
    }
    found.emplace_back(&key, std::move(text));
    return true;
  }
};

// "LINE:COLUMN" of byte `offset` in `text`, both from 1.
std::string Where(const std::string& text, size_t offset) {
  offset = std::min(offset, text.size());
  size_t line = 1, column = 1;
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return std::to_string(line) + ":" + std::to_string(column);
}

}  // namespace

std::optional<std::vector<std::string>> ParseServeConfig(const std::string& text, const std::string& path,
                                                         std::string* error) {
  json::stream_parser parser;
  boost::system::error_code ec;
  // write(), not write_some(): text after the object is an error (extra_data), not ignored.
  const size_t used = parser.write(text.data(), text.size(), ec);
  if (!ec) parser.finish(ec);
  if (ec) {
    *error = path + ":" + Where(text, used) + ": not JSON: " + ec.message();
    return std::nullopt;
  }
  const json::value document = parser.release();
  if (!document.is_object()) {
    *error = path + ": must hold one JSON object";
    return std::nullopt;
  }
  Walk walk{path, fs::absolute(fs::path(path)).parent_path(), {}, {}};
  if (!walk.Object(document.get_object(), "")) {
    *error = walk.error;
    return std::nullopt;
  }
  // Table order, so that the arguments (and a test's expectations) do not depend on the
  // order of the file's keys.
  std::vector<std::string> args;
  for (const ConfigKey& key : kServeConfigKeys) {
    for (const auto& [k, value] : walk.found) {
      if (k != &key) continue;
      args.push_back("--" + std::string(key.flag) + (key.kind == ConfigValueKind::kBool ? "" : "=" + value));
    }
  }
  return args;
}

std::optional<std::vector<std::string>> LoadServeConfig(const std::string& path, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  std::error_code ec;
  if (!in || fs::is_directory(path, ec)) {
    *error = "cannot read config " + path + (in ? ": is a directory" : ": no such readable file");
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return ParseServeConfig(text.str(), path, error);
}

std::vector<std::string> WithConfig(const std::vector<std::string>& from_file,
                                    const std::vector<std::string>& command_line) {
  std::vector<std::string> args = from_file;
  args.insert(args.end(), command_line.begin(), command_line.end());
  return args;
}

}  // namespace caseledger::app
