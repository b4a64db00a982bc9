// caseledger history --data DIR PERSON [--as-of T] [--format text|json] [--master-key F]:
// a person's case history with envelope metadata and linked corrections
// (replay/history.h), as the registry knew it at T when --as-of is given. Personal fields
// open with the master key (default DIR/master.key when present); without it they show as
// "sealed", and as "erased" once the person's key was destroyed.
#include "app/commands.h"
#include "app/data_store.h"
#include "app/flags.h"
#include "domain/validation.h"
#include "eventstore/event_store.h"
#include "replay/history.h"

#include <boost/json.hpp>

#include <iostream>

namespace caseledger::app {

int RunHistory(const Args& args) {
  Flags flags(args, {"data", "as-of", "format", "master-key"});
  if (!flags.ok()) return UsageError(flags.error());
  auto data = flags.Get("data");
  if (!data || flags.positional().size() != 1) return UsageError("history needs --data DIR and one PERSON id");
  const std::string& person = flags.positional().front();
  if (!domain::ValidatePersonId(person, "PERSON")) return UsageError("'" + person + "' is not a person id");
  const std::string format = flags.GetOr("format", "text");
  if (format != "text" && format != "json") return UsageError("--format must be text or json");
  replay::HistoryOptions options;
  if (auto t = flags.Get("as-of")) {
    options.as_of = domain::Timestamp::Parse(*t);
    if (!options.as_of) return UsageError("--as-of must be an RFC 3339 time, e.g. 2020-11-01T00:00:00Z");
  }
  std::string error;
  auto store = OpenDataStore(*data, &error, flags.GetOr("master-key", ""));
  if (!store) return Failure(error);
  auto history = replay::PersonHistory(*store, person, options);
  if (!history) {
    if (history.error().code == eventstore::StoreErrorCode::kNotFound) {
      return Failure("no events for person " + person + (options.as_of ? " recorded by then" : ""));
    }
    return Failure(history.error().message);
  }
  if (format == "json") {
    std::cout << boost::json::serialize(*history) << "\n";
  } else {
    std::cout << replay::HistoryText(*history);
  }
  return 0;
}

}  // namespace caseledger::app
