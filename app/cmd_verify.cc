// caseledger verify --data DIR: walks the hash chain and checks the stream index and
// heads against the log. Exit 0 when intact, 1 with the first broken position otherwise.
#include "app/commands.h"
#include "app/flags.h"
#include "eventstore/event_store.h"

#include <iostream>

namespace caseledger::app {

int RunVerify(const Args& args) {
  Flags flags(args, {"data"});
  if (!flags.ok()) return UsageError(flags.error());
  auto data = flags.Get("data");
  if (!data) return UsageError("verify needs --data DIR");
  eventstore::VerifyOptions options;
  options.path = *data + "/store";
  options.progress = [](uint64_t position) {
    std::cerr << "verified up to position " << position << "\n";
  };
  auto report = eventstore::VerifyStore(options);
  if (!report) return Failure("cannot verify " + options.path + ": " + report.error().message);
  if (report->first_bad_position != 0 || !report->problem.empty()) {
    std::cout << "BROKEN at position " << report->first_bad_position << ": " << report->problem
              << "\n";
    return 1;
  }
  std::cout << "ok: " << report->events_checked << " events, " << report->index_entries_checked
            << " stream index entries; hash chain intact\n";
  return 0;
}

}  // namespace caseledger::app
