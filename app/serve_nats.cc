#include "app/serve_nats.h"

#include <sodium.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace caseledger::app {
namespace {

std::vector<std::string> SplitUrls(const std::string& text) {
  std::vector<std::string> urls;
  std::stringstream in(text);
  std::string url;
  while (std::getline(in, url, ',')) {
    if (!url.empty()) urls.push_back(url);
  }
  return urls;
}

bool ValidUrls(const std::vector<std::string>& urls) {
  if (urls.empty()) return false;
  for (const auto& u : urls) {
    if (!u.starts_with("nats://")) return false;
  }
  return true;
}

// JetStream consumer names: letters, digits, '-' and '_' only.
bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

std::string ReplicaName(const std::string& data_dir, std::string* error) {
  const std::string path = data_dir + "/replica.name";
  std::string name;
  if (std::ifstream in(path); in && std::getline(in, name) && ValidName(name)) return name;
  unsigned char bytes[8];
  randombytes_buf(bytes, sizeof bytes);
  static constexpr char kHex[] = "0123456789abcdef";
  name = "replica-";
  for (unsigned char b : bytes) name.append({kHex[b >> 4], kHex[b & 15]});
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << name << "\n";
    if (!out.flush()) {
      *error = "cannot write " + tmp;
      return "";
    }
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    *error = "cannot write " + path + ": " + ec.message();
    return "";
  }
  return name;
}

}  // namespace

bool ApplyNatsFlags(const Flags& flags, api::ServiceOptions& options, std::string* error) {
  if (flags.Has("nats") && flags.Has("replica-of")) {
    *error = "--nats and --replica-of exclude each other: a replica does not relay";
    return false;
  }
  if (flags.Has("nats")) {
    eventstore::RelayOptions relay;
    relay.urls = SplitUrls(*flags.Get("nats"));
    if (!ValidUrls(relay.urls)) {
      *error = "--nats takes nats://HOST:PORT[,nats://HOST:PORT...]";
      return false;
    }
    if (auto r = flags.Get("nats-replicas")) {
      auto [ptr, ec] = std::from_chars(r->data(), r->data() + r->size(), relay.replicas);
      if (ec != std::errc() || ptr != r->data() + r->size() || relay.replicas < 1 || relay.replicas > 5) {
        *error = "--nats-replicas takes 1 to 5";
        return false;
      }
    }
    options.relay = std::move(relay);
  }
  if (flags.Has("replica-of")) {
    eventstore::ReplicaFeedOptions replica;
    replica.urls = SplitUrls(*flags.Get("replica-of"));
    if (!ValidUrls(replica.urls)) {
      *error = "--replica-of takes nats://HOST:PORT[,nats://HOST:PORT...]";
      return false;
    }
    if (auto n = flags.Get("replica-name")) {
      if (!ValidName(*n)) {
        *error = "--replica-name takes letters, digits, '-' and '_' (at most 64)";
        return false;
      }
      replica.durable = *n;
    } else {
      replica.durable = ReplicaName(options.data_dir, error);
      if (replica.durable.empty()) return false;
    }
    options.replica = std::move(replica);
    options.primary_url = flags.GetOr("primary", "");
  }
  if (flags.Has("ship-standby")) {
    if (!options.relay) {
      *error = "--ship-standby ships to the --nats servers: give --nats";
      return false;
    }
    eventstore::StandbyShipOptions ship;
    ship.urls = options.relay->urls;
    ship.replicas = options.relay->replicas;
    options.ship_standby = std::move(ship);
  }
  if (flags.Has("standby-of")) {
    if (flags.Has("replica-of") || flags.Has("ship-standby")) {
      *error = "--standby-of excludes --replica-of and --ship-standby: a standby takes its primary's log only";
      return false;
    }
    eventstore::StandbyFollowOptions standby;
    standby.urls = SplitUrls(*flags.Get("standby-of"));
    if (!ValidUrls(standby.urls)) {
      *error = "--standby-of takes nats://HOST:PORT[,nats://HOST:PORT...]";
      return false;
    }
    options.standby = std::move(standby);
    options.primary_url = flags.GetOr("primary", "");
  }
  if ((flags.Has("nats-replicas") && !flags.Has("nats")) || (flags.Has("replica-name") && !flags.Has("replica-of")) ||
      (flags.Has("primary") && !flags.Has("replica-of") && !flags.Has("standby-of"))) {
    *error = "--nats-replicas goes with --nats; --replica-name with --replica-of; --primary with --replica-of or --standby-of";
    return false;
  }
  return true;
}

}  // namespace caseledger::app
