// Helper process for crash_test: appends from several threads until it is killed, and
// writes one line per acknowledged append to stdout ("<position> <stream> <version> <body>").
// A line is written only after Append returned, so every line is a promise of durability.
// With a third argument "async", the threads keep many AppendAsync requests in flight
// each and the line is written by the completion callback, on the store's sync thread.
#include "eventstore/event_store.h"

#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace caseledger::eventstore;

namespace {

AppendRequest Request(const std::string& round, int t, uint64_t i, std::string& body) {
  AppendRequest r;
  r.stream = "s" + std::to_string(i % 7);
  body = "r" + round + "-t" + std::to_string(t) + "-" + std::to_string(i);
  r.events.push_back({"CrashTestEvent", 1, body, std::string(100, 'p'), {}});
  if (i % 3 == 0) r.events.push_back({"CrashTestEvent", 1, body + "b", "", {}});
  return r;
}

void Report(const AppendResult& res, size_t events, const std::string& body) {
  std::string line = std::to_string(res.first_position) + " " + res.stream + " " +
                     std::to_string(res.version - events + 1) + " " + body + "\n";
  if (write(STDOUT_FILENO, line.data(), line.size()) != ssize_t(line.size())) _exit(1);
}

// Each thread keeps up to 32 appends in flight; the callback reports and frees a slot.
void AsyncWorker(EventStore& store, const std::string& round, int t) {
  std::mutex mu;
  std::condition_variable cv;
  int in_flight = 0;
  for (uint64_t i = 0;; ++i) {
    {
      std::unique_lock l(mu);
      cv.wait(l, [&] { return in_flight < 32; });
      ++in_flight;
    }
    std::string body;
    AppendRequest r = Request(round, t, i, body);
    const size_t events = r.events.size();
    store.AppendAsync(std::move(r), [&, body, events](StoreResult<AppendResult> res) {
      if (!res) {
        std::fprintf(stderr, "append failed: %s\n", res.error().message.c_str());
        _exit(1);
      }
      Report(*res, events, body);
      std::lock_guard l(mu);
      --in_flight;
      cv.notify_one();
    });
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 && !(argc == 4 && std::string(argv[3]) == "async")) {
    std::fprintf(stderr, "usage: crash_appender STORE_DIR ROUND [async]\n");
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
  if (argc == 4) {
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) threads.emplace_back([&, t] { AsyncWorker(**store, round, t); });
    for (auto& th : threads) th.join();
    return 1;
  }
  auto worker = [&](int t) {
    for (uint64_t i = 0;; ++i) {
      std::string body;
      AppendRequest r = Request(round, t, i, body);
      auto res = (*store)->Append(r);
      if (!res) {
        std::fprintf(stderr, "append failed: %s\n", res.error().message.c_str());
        return;
      }
      Report(*res, r.events.size(), body);
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) threads.emplace_back(worker, t);
  for (auto& th : threads) th.join();
  return 1;
}
