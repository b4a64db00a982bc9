// Where a benchmark puts its throwaway stores and views: DIR/caseledger-bench-<name>-<pid>,
// DIR being --data (else $TMPDIR, else /tmp); created by the constructor and removed with
// its contents by the destructor, also when the benchmark fails.
#pragma once

#include "app/flags.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace caseledger::tools {

class BenchScratch {
 public:
  BenchScratch(const app::Flags& flags, const std::string& name) {
    const char* tmp = std::getenv("TMPDIR");
    path_ = flags.GetOr("data", tmp && *tmp ? tmp : "/tmp") + "/caseledger-bench-" + name + "-" +
            std::to_string(::getpid());
    std::filesystem::create_directories(path_);
  }
  ~BenchScratch() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  BenchScratch(const BenchScratch&) = delete;
  BenchScratch& operator=(const BenchScratch&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace caseledger::tools
