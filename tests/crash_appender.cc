// Helper process for crash_test: appends from several threads until it is killed, and
// writes one line per acknowledged append to stdout ("<position> <stream> <version> <body>").
// A line is written only after Append returned, so every line is a promise of durability.
#include "eventstore/event_store.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

using namespace caseledger::eventstore;

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: crash_appender STORE_DIR ROUND\n");
    return 2;
  }
  StoreOptions options;
  options.path = argv[1];
  options.master_key_path = std::string(argv[1]) + ".master.key";
  auto store = EventStore::Open(options);
  if (!store) {
    std::fprintf(stderr, "open failed: %s\n", store.error().message.c_str());
    return 1;
  }
  const std::string round = argv[2];
  auto worker = [&](int t) {
    for (uint64_t i = 0;; ++i) {
      AppendRequest r;
      r.stream = "s" + std::to_string(i % 7);
      std::string body = "r" + round + "-t" + std::to_string(t) + "-" + std::to_string(i);
      r.events.push_back({"CrashTestEvent", 1, body, std::string(100, 'p'), {}});
      if (i % 3 == 0) r.events.push_back({"CrashTestEvent", 1, body + "b", "", {}});
      auto res = (*store)->Append(r);
      if (!res) {
        std::fprintf(stderr, "append failed: %s\n", res.error().message.c_str());
        return;
      }
      std::string line = std::to_string(res->first_position) + " " + res->stream + " " +
                         std::to_string(res->version - r.events.size() + 1) + " " + body + "\n";
      if (write(STDOUT_FILENO, line.data(), line.size()) != ssize_t(line.size())) return;
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) threads.emplace_back(worker, t);
  for (auto& th : threads) th.join();
  return 1;
}
