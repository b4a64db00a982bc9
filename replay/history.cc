#include "replay/history.h"

#include "domain/event_codec.h"
#include "domain/event_json.h"
#include "domain/events.h"

#include <boost/json.hpp>

#include <map>
#include <sstream>

namespace caseledger::replay {
namespace {

namespace json = boost::json;
using eventstore::StoreError;
using eventstore::StoreErrorCode;

constexpr size_t kChunk = 4096;

std::string Str(const json::object& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_string()) return "-";
  return std::string(it->value().as_string());
}

}  // namespace

eventstore::StoreResult<json::object> PersonHistory(const eventstore::EventStore& store, const std::string& person_id,
                                                    const HistoryOptions& options) {
  const std::string stream = domain::PersonStream(person_id);
  json::array list;
  std::map<std::string, size_t> last_result;  // swab id -> index in `list` of its latest outcome
  uint64_t version = 0;
  bool done = false;
  for (uint64_t from = 1; !done;) {
    auto chunk = store.ReadStream(stream, from, kChunk);
    if (!chunk) return chunk.error();
    for (const domain::Envelope& env : *chunk) {
      // Recorded-at never goes backwards in the log, so the rest is later still.
      if (options.as_of && env.recorded_at > *options.as_of) {
        done = true;
        break;
      }
      auto event = domain::Decode(env.type, env.schema_version, env.body, env.personal);
      if (!event) {
        return StoreError(StoreErrorCode::kCorruption, env.type + " at position " + std::to_string(env.position) +
                          " does not decode: " + event.error().message, 0, env.position);
      }
      json::object entry = domain::EnvelopeToJson(env, *event, options.include_personal);
      // Read without the master key: the personal part exists but could not be opened.
      if (options.include_personal && env.personal_form == domain::PersonalForm::kSealed) {
        entry["event"].as_object()["personal"] = "sealed";
      }
      if (const auto* r = std::get_if<domain::ResultRecorded>(&*event)) {
        last_result[r->swab_id] = list.size();
      } else if (const auto* c = std::get_if<domain::ResultCorrected>(&*event)) {
        auto it = last_result.find(c->swab_id);
        if (it != last_result.end()) {
          entry["corrects"] = list[it->second].as_object().at("position");
          it->second = list.size();
        }
      }
      list.push_back(std::move(entry));
      version = env.version;
    }
    if (chunk->size() < kChunk) done = true;
    if (!chunk->empty()) from = chunk->back().version + 1;
  }
  if (list.empty()) return StoreError(StoreErrorCode::kNotFound, "person " + person_id + " has no history");
  // Fill corrected_by from the corrects links (a result may be corrected more than once in
  // a chain; each link names its direct predecessor).
  std::map<uint64_t, size_t> index_of;
  for (size_t i = 0; i < list.size(); ++i) index_of[list[i].as_object().at("position").to_number<uint64_t>()] = i;
  for (const auto& v : list) {
    const auto& o = v.as_object();
    if (!o.contains("corrects")) continue;
    auto& target = list[index_of.at(o.at("corrects").to_number<uint64_t>())].as_object();
    auto& by = target["corrected_by"];
    if (!by.is_array()) by.emplace_array();
    by.as_array().push_back(o.at("position"));
  }
  json::object out;
  out["person_id"] = person_id;
  out["version"] = version;
  out["as_of"] = options.as_of ? json::value(options.as_of->ToString()) : json::value(nullptr);
  out["events"] = std::move(list);
  return out;
}

std::string HistoryText(const json::object& history) {
  std::ostringstream out;
  out << "person " << Str(history, "person_id") << ", " << history.at("events").as_array().size() << " events";
  if (history.at("as_of").is_string()) out << " recorded up to " << history.at("as_of").as_string();
  out << "\n";
  for (const auto& v : history.at("events").as_array()) {
    const auto& e = v.as_object();
    const auto& actor = e.at("actor").as_object();
    out << "#" << json::serialize(e.at("position")) << " v" << json::serialize(e.at("version")) << " "
        << Str(e, "recorded_at") << " (effective " << Str(e, "effective_at") << ") " << Str(e, "type") << " schema v"
        << json::serialize(e.at("schema_version")) << "\n"
        << "      by " << Str(actor, "id") << " (" << Str(actor, "role") << ") correlation " << Str(e, "correlation_id")
        << " causation " << Str(e, "causation_id") << "\n"
        << "      " << json::serialize(e.at("event")) << "\n";
    if (e.contains("corrects")) out << "      corrects #" << json::serialize(e.at("corrects")) << "\n";
    if (e.contains("corrected_by")) out << "      corrected by " << json::serialize(e.at("corrected_by")) << "\n";
  }
  return out.str();
}

}  // namespace caseledger::replay
