// The identity provider's signing keys read from its `jwks_uri` (OpenID Connect Discovery
// §3) and kept current: fetched at start (serve refuses to start without them), again every
// `refresh` (providers publish a new key before they sign with it), and soon after a token
// arrives signed by a key the server does not know (an urgent rotation), at most once per
// `min_interval` so that forged tokens cannot make the server hammer the provider. Each
// fetched set that parses (jwks.h's rules) replaces the keys through `on_keys`; a set that
// does not parse, or a failed fetch, keeps the previous keys and is logged. No Beast here.
#pragma once

#include "api/jwt.h"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace caseledger::api {

struct JwksSourceOptions {
  std::string uri;  // https://…, or http:// to a loopback address (tests, development)
  std::chrono::seconds refresh{300};
  std::chrono::seconds min_interval{30};
  std::chrono::seconds timeout{10};
  size_t max_bytes = 1 << 20;
};

// GET `url` (http or https, certificates checked against the system's CAs and the host
// name); the body of a 200 answer, or nullopt with a one-line `error`.
std::optional<std::string> HttpGet(const std::string& url, std::chrono::seconds timeout, size_t max_bytes,
                                   std::string* error);

// False with a reason when `uri` is not an https URL, nor an http URL to a loopback host.
bool AcceptableJwksUri(const std::string& uri, std::string* why);

class JwksSource {
 public:
  using KeysCallback = std::function<void(std::vector<JwtPublicKey>)>;

  // Fetches once (calling `on_keys` before returning) and starts the refreshing thread;
  // nullptr with `error` when the first fetch or its set fails.
  static std::unique_ptr<JwksSource> Start(JwksSourceOptions options, KeysCallback on_keys, std::string* error);
  ~JwksSource();  // stops the thread

  // Asks for a fetch now, unless one happened within min_interval. Never blocks.
  void RefreshSoon();

  // Successful fetches that changed nothing or something, and failed ones, since start.
  uint64_t fetches() const;
  uint64_t failures() const;

 private:
  struct State;
  explicit JwksSource(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace caseledger::api
