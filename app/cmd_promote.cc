// caseledger promote --data DIR [--master-key FILE] (docs/standby.md): turns a warm standby
// into the primary. A server running on DIR is asked over DIR/control.sock (it stops
// following once the stream holds nothing more, checks the chain's tail, records the new
// epoch, publishes a fence for the old primary and accepts commands from then on); with no
// server, this process promotes the store itself (no fence is published then).
#include "api/control_socket.h"
#include "app/commands.h"
#include "app/flags.h"
#include "eventstore/event_store.h"

#include <boost/json/parse.hpp>

#include <chrono>
#include <filesystem>
#include <iostream>

namespace caseledger::app {

int RunPromote(const Args& args) {
  Flags flags(args, {"data", "master-key"});
  if (!flags.ok()) return UsageError(flags.error());
  auto data = flags.Get("data");
  if (!data) return UsageError("promote needs --data DIR");
  const auto start = std::chrono::steady_clock::now();
  if (auto answer = api::AskControlSocket(*data + "/control.sock", "promote")) {
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(*answer, ec);
    if (ec || !v.is_object()) return Failure("the server answered: " + *answer);
    const boost::json::object& o = v.get_object();
    if (!o.contains("ok") || !o.at("ok").as_bool()) {
      return Failure("promotion refused: " + std::string(o.contains("error") ? o.at("error").as_string().c_str() : *answer));
    }
    std::cout << "promoted the running server on " << *data << " to primary at epoch " << o.at("epoch").as_int64()
              << ", log at position " << o.at("position").as_int64() << " (" << o.at("millis").as_int64()
              << " ms)\n"
              << "  fence for the old primary: " << o.at("fence").as_string().c_str() << "\n"
              << "  it accepts commands now; remove --standby-of (standby.of) from its configuration\n";
    return 0;
  }
  if (!std::filesystem::exists(*data + "/store")) return Failure(*data + "/store does not exist");
  eventstore::StoreOptions o;
  o.path = *data + "/store";
  o.create_if_missing = false;
  o.master_key_path = flags.GetOr("master-key", *data + "/master.key");
  auto store = eventstore::EventStore::Open(o);
  if (!store) return Failure("cannot open " + o.path + ": " + store.error().message);
  auto role = (*store)->Promote();
  if (!role) return Failure("promotion refused: " + role.error().message);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  std::cout << "promoted " << *data << " (no server ran) to primary at epoch " << role->epoch << ", log at position "
            << (*store)->CommittedPosition() << " (" << ms << " ms)\n"
            << "  no fence was published: make sure the old primary is stopped (docs/standby.md)\n"
            << "  serve it without --standby-of\n";
  return 0;
}

}  // namespace caseledger::app
