// A small command-line flag reader: "--name value" and "--name=value", positional
// arguments kept in order; a later value of a flag replaces an earlier one, and a switch
// given as "--name=false" is absent. Unknown flags are a usage error.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace caseledger::app {

class Flags {
 public:
  // `known`: flag names without dashes; `switches`: those that take no value.
  Flags(const std::vector<std::string>& args, std::set<std::string> known,
        std::set<std::string> switches = {});

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  std::optional<std::string> Get(const std::string& name) const;
  std::string GetOr(const std::string& name, const std::string& fallback) const;
  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
  std::string error_;
};

// Prints "caseledger: <message>" on stderr and returns 2.
int UsageError(const std::string& message);
// Prints "caseledger: <message>" on stderr and returns 1.
int Failure(const std::string& message);

}  // namespace caseledger::app
