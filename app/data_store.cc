#include "app/data_store.h"

#include <filesystem>

namespace caseledger::app {

std::unique_ptr<eventstore::EventStore> OpenDataStore(const std::string& data_dir, std::string* error,
                                                      const std::string& master_key) {
  eventstore::StoreOptions o;
  o.path = data_dir + "/store";
  o.create_if_missing = false;
  o.master_key_path = master_key;
  if (o.master_key_path.empty() && std::filesystem::exists(data_dir + "/master.key")) {
    o.master_key_path = data_dir + "/master.key";
  }
  auto store = eventstore::EventStore::Open(o);
  if (!store) {
    *error = "cannot open " + o.path + ": " + store.error().message +
             " (a running server holds the store: stop it first, or use the HTTP API)";
    return nullptr;
  }
  return std::move(*store);
}

}  // namespace caseledger::app
