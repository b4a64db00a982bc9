// caseledger backup --data DIR --to DEST, and caseledger restore --from DEST --data DIR
// [--to-position P | --to-time T] (docs/operations.md, "Backup and restore").
//
// The backup is taken by whoever holds the databases open: a running server, asked over
// DIR/control.sock (RocksDB admits one writer per database and only it can keep files from
// being deleted while they are copied), else this process, opening them itself.
#include "api/backup_request.h"
#include "api/control_socket.h"
#include "app/commands.h"
#include "app/flags.h"
#include "app/reference_files.h"
#include "eventstore/access_log.h"
#include "eventstore/backup.h"
#include "eventstore/personal_vault.h"
#include "serving/live_views.h"

#include <charconv>
#include <filesystem>
#include <iostream>

namespace caseledger::app {
namespace {

std::string HexTip(const eventstore::ChainTip& tip) { return eventstore::Hex(tip.hash.data(), tip.hash.size()); }

eventstore::StoreResult<eventstore::BackupReport> BackupOffline(const std::string& data, const std::string& dest) {
  eventstore::StoreOptions o;
  o.path = data + "/store";
  o.create_if_missing = false;
  auto store = eventstore::EventStore::Open(o);
  if (!store) return store.error();
  std::unique_ptr<eventstore::AccessLog> access;
  if (std::filesystem::exists(data + "/access")) {
    eventstore::AccessLogOptions ao;
    ao.path = data + "/access";
    auto opened = eventstore::AccessLog::Open(ao);
    if (!opened) return opened.error();
    access = std::move(*opened);
  }
  return eventstore::BackupDataDir(**store, access.get(), data, dest);
}

}  // namespace

int RunBackup(const Args& args) {
  Flags flags(args, {"data", "to"});
  if (!flags.ok()) return UsageError(flags.error());
  auto data = flags.Get("data");
  auto to = flags.Get("to");
  if (!data || !to) return UsageError("backup needs --data DIR and --to DEST");
  std::error_code ec;
  const std::string dest = std::filesystem::absolute(*to, ec).lexically_normal().string();
  if (ec) return UsageError("--to: " + ec.message());
  eventstore::StoreResult<eventstore::BackupReport> report = eventstore::StoreError{};
  std::string by;
  if (auto answer = api::AskControlSocket(*data + "/control.sock", "backup " + dest)) {
    report = api::ParseBackupAnswer(*answer);
    by = "the running server";
  } else if (!std::filesystem::exists(*data + "/store")) {
    return Failure(*data + "/store does not exist");
  } else {
    report = BackupOffline(*data, dest);
    by = "this process (no server runs)";
  }
  if (!report) return Failure("backup failed: " + report.error().message);
  std::cout << "backup " << report->backup_id << " of " << *data << " in " << dest << ", taken by " << by << "\n"
            << "  log up to position " << report->tip.position << ", chain tip " << HexTip(report->tip) << "\n"
            << "  access log up to record " << report->access_sequence << "\n"
            << "  " << report->bytes_added << " bytes written, " << report->bytes_total << " in the backup directory\n"
            << "not in it: the master key (keep it apart, docs/operations.md) and the views (rebuilt on restore)\n";
  return 0;
}

int RunRestore(const Args& args) {
  Flags flags(args, {"from", "data", "to-position", "to-time", "reference"});
  if (!flags.ok()) return UsageError(flags.error());
  auto from = flags.Get("from");
  auto data = flags.Get("data");
  if (!from || !data) return UsageError("restore needs --from DEST and --data DIR");
  eventstore::RestoreOptions options;
  options.from = *from;
  options.data_dir = *data;
  if (auto p = flags.Get("to-position")) {
    uint64_t n = 0;
    auto r = std::from_chars(p->data(), p->data() + p->size(), n);
    if (p->empty() || r.ec != std::errc{} || r.ptr != p->data() + p->size()) {
      return UsageError("--to-position takes a log position");
    }
    options.to_position = n;
  }
  if (auto t = flags.Get("to-time")) {
    options.to_time = domain::Timestamp::Parse(*t);
    if (!options.to_time) return UsageError("--to-time must be an RFC 3339 time, e.g. 2020-11-01T00:00:00Z");
  }
  if (options.to_position && options.to_time) return UsageError("give --to-position or --to-time, not both");
  auto reference = LoadReferenceData(flags.GetOr("reference", DefaultReferenceDir()));
  if (!reference) return Failure(reference.error().message);

  auto report = eventstore::RestoreDataDir(options);
  if (!report) return Failure("restore failed: " + report.error().message);
  std::cout << "restored backup " << report->backup_id << " of " << *from << " into " << *data << "\n"
            << "  the backup's tip: position " << report->backup_tip.position << " " << HexTip(report->backup_tip) << "\n"
            << "  restored log verified from position 1 to " << report->tip.position << ", tip " << HexTip(report->tip)
            << (report->events_cut > 0 ? " (" + std::to_string(report->events_cut) + " later events cut)" : "") << "\n"
            << "  access log: " << report->access_records << " records, chain intact\n";

  // The views, rebuilt from the restored log before anything serves it.
  eventstore::StoreOptions o;
  o.path = *data + "/store";
  o.create_if_missing = false;
  auto store = eventstore::EventStore::Open(o);
  if (!store) return Failure("cannot open the restored store: " + store.error().message);
  serving::LiveViewsOptions vo;
  vo.data_dir = *data;
  vo.reference = *reference;
  auto views = serving::LiveViews::Open(**store, std::move(vo));
  if (!views) return Failure("cannot rebuild the views: " + views.error().message);
  std::cout << "  views rebuilt to position " << (*views)->Position() << "\n"
            << "copy the master key to " << *data << "/master.key (or pass serve --master-key) before serving\n";
  (*views)->Stop();
  return 0;
}

}  // namespace caseledger::app
