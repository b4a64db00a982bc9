// An in-process caseledger server on an ephemeral loopback port, with a real store in a
// temp dir, and a small keep-alive HTTP client for the integration tests.
#pragma once

#include "api/service.h"
#include "tests/support/temp_dir.h"

#include <boost/json/value.hpp>

#include <map>
#include <memory>
#include <string>
#include <thread>

namespace caseledger::testing {

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  boost::json::value Json() const;  // parses body; null when it is not JSON
  std::string Header(const std::string& lower_name) const;
};

class TestServer {
 public:
  // Starts with the shipped reference data and rules. `tune` may change server options.
  explicit TestServer(std::function<void(api::ServiceOptions&)> tune = {});
  ~TestServer();

  uint16_t port() const { return service_->port(); }
  api::Service& service() { return *service_; }
  const std::string& data_dir() const { return dir_.path(); }
  // The subject that holds, from the start, operator in every ASL, admin and auditor.
  static constexpr char kDefaultSubject[] = "tester";
  // A valid token for `subject`, signed with the server's key.
  std::string Token(const std::string& subject = kDefaultSubject) const;
  // Records AccessGranted / AccessRevoked for `subject` straight in the store.
  void Grant(const std::string& subject, const std::string& role, const std::string& scope = "");
  void Revoke(const std::string& subject, const std::string& role, const std::string& scope = "");

 private:
  void RecordGrant(const std::string& subject, const std::string& role, const std::string& scope, bool revoke);

  TempDir dir_;
  std::unique_ptr<api::Service> service_;
  std::thread thread_;
};

// The shipped rule set ops/rules/2021-12-31.json re-dated to take effect on 2020-10-12 under
// an id of its own (JSON): a candidate that shortens October 2020's quarantines, for the
// tests that adopt rules.
std::string RedatedDecember2021RuleSet();

// One keep-alive connection.
class HttpClient {
 public:
  explicit HttpClient(uint16_t port);
  ~HttpClient();
  HttpReply Send(const std::string& method, const std::string& target, const std::string& body = "",
                 const std::map<std::string, std::string>& headers = {});
  // Convenience: JSON body with a bearer token.
  HttpReply Post(const std::string& target, const std::string& json, const std::string& token,
                 const std::map<std::string, std::string>& headers = {});
  HttpReply Get(const std::string& target, const std::string& token,
                const std::map<std::string, std::string>& headers = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace caseledger::testing
