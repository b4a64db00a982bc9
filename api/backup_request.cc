#include "api/backup_request.h"

#include "eventstore/personal_vault.h"

#include <boost/json.hpp>
#include <sodium.h>

namespace caseledger::api {
namespace json = boost::json;
using eventstore::StoreError;
using eventstore::StoreErrorCode;

std::string AnswerControlRequest(eventstore::EventStore& store, eventstore::AccessLog* access,
                                 const std::string& data_dir, const std::string& request) {
  constexpr std::string_view kBackup = "backup ";
  if (!request.starts_with(kBackup) || request.size() == kBackup.size() || request[kBackup.size()] != '/') {
    return json::serialize(json::object{{"ok", false}, {"error", "unknown request; known: backup /ABSOLUTE/DEST"}});
  }
  auto report = eventstore::BackupDataDir(store, access, data_dir, request.substr(kBackup.size()));
  if (!report) {
    return json::serialize(json::object{{"ok", false}, {"code", static_cast<int>(report.error().code)},
                                        {"error", report.error().message}});
  }
  return json::serialize(json::object{
      {"ok", true},
      {"backup_id", report->backup_id},
      {"position", report->tip.position},
      {"tip", eventstore::Hex(report->tip.hash.data(), report->tip.hash.size())},
      {"access_sequence", report->access_sequence},
      {"bytes_total", report->bytes_total},
      {"bytes_added", report->bytes_added}});
}

eventstore::StoreResult<eventstore::BackupReport> ParseBackupAnswer(const std::string& answer) {
  try {
    json::object o = json::parse(answer).as_object();
    if (!o.at("ok").as_bool()) {
      auto code = o.if_contains("code") ? static_cast<StoreErrorCode>(o.at("code").to_number<int>()) : StoreErrorCode::kIo;
      return StoreError(code, std::string(o.at("error").as_string()));
    }
    eventstore::BackupReport r;
    r.backup_id = o.at("backup_id").to_number<uint32_t>();
    r.tip.position = o.at("position").to_number<uint64_t>();
    const json::string& hex = o.at("tip").as_string();
    size_t len = 0;
    if (sodium_hex2bin(r.tip.hash.data(), r.tip.hash.size(), hex.data(), hex.size(), nullptr, &len, nullptr) != 0 ||
        len != r.tip.hash.size()) {
      return StoreError(StoreErrorCode::kIo, "the server's answer has a bad tip");
    }
    r.access_sequence = o.at("access_sequence").to_number<uint64_t>();
    r.bytes_total = o.at("bytes_total").to_number<uint64_t>();
    r.bytes_added = o.at("bytes_added").to_number<uint64_t>();
    return r;
  } catch (const std::exception& e) {
    return StoreError(StoreErrorCode::kIo, "the server's answer does not parse: " + answer);
  }
}

}  // namespace caseledger::api
