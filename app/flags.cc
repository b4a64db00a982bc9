#include "app/flags.h"

#include <iostream>

namespace caseledger::app {

Flags::Flags(const std::vector<std::string>& args, std::set<std::string> known,
             std::set<std::string> switches) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.rfind("--", 0) != 0) {
      positional_.push_back(a);
      continue;
    }
    std::string name = a.substr(2), value;
    bool inline_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      inline_value = true;
    }
    if (!known.count(name) && !switches.count(name)) {
      error_ = "unknown flag --" + name;
      return;
    }
    if (switches.count(name)) {
      // "--insecure=false" turns a switch off, also one set earlier (serve --config's file).
      if (inline_value && value == "false") {
        values_.erase(name);
      } else {
        values_[name] = inline_value ? value : "true";
      }
      continue;
    }
    if (!inline_value) {
      if (i + 1 >= args.size()) {
        error_ = "flag --" + name + " needs a value";
        return;
      }
      value = args[++i];
    }
    values_[name] = value;
  }
}

std::optional<std::string> Flags::Get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string Flags::GetOr(const std::string& name, const std::string& fallback) const {
  return Get(name).value_or(fallback);
}

int UsageError(const std::string& message) {
  std::cerr << "caseledger: " << message << "\n";
  return 2;
}

int Failure(const std::string& message) {
  std::cerr << "caseledger: " << message << "\n";
  return 1;
}

}  // namespace caseledger::app
