// Opening a data directory's store from a command that runs beside (not inside) serve.
#pragma once

#include "eventstore/event_store.h"

#include <memory>
#include <string>

namespace caseledger::app {

// Opens DIR/store (not creating it), with a hint when another process (a server) holds it.
// Personal parts open with `master_key`, else with DIR/master.key when there is one (as
// `serve` uses it), else stay sealed. nullptr with `error` on failure.
std::unique_ptr<eventstore::EventStore> OpenDataStore(const std::string& data_dir, std::string* error,
                                                      const std::string& master_key);

}  // namespace caseledger::app
