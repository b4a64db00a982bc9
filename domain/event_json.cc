#include "domain/event_json.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <optional>

namespace caseledger::domain {
namespace {

namespace json = boost::json;

json::value DateOrNull(const std::optional<Date>& d) {
  if (!d) return nullptr;
  return json::value(d->ToString());
}

void AddPersonal(json::object& o, const Personal& p) {
  json::object personal;
  auto put = [&](const char* key, const std::string& v) {
    if (!v.empty()) personal[key] = v;
  };
  put("family_name", p.family_name);
  put("given_names", p.given_names);
  put("tax_code", p.tax_code);
  put("birth_date", p.birth_date);
  put("address", p.address);
  put("phone", p.phone);
  if (!personal.empty()) o["personal"] = std::move(personal);
}

// Writes the fields of one event into `o` (which already holds "type").
struct FieldWriter {
  json::object& o;
  bool include_personal;

  void operator()(const PersonRegistered& e) {
    o["person_id"] = e.person_id;
    o["sex"] = ToString(e.sex);
    o["residence_istat"] = e.residence_istat;
    if (include_personal) AddPersonal(o, e.personal);
  }
  void operator()(const ResidenceChanged& e) {
    o["from_istat"] = e.from_istat;
    o["to_istat"] = e.to_istat;
    if (include_personal) AddPersonal(o, e.personal);
  }
  void operator()(const GpAssigned& e) {
    o["gp_id"] = e.gp_id;
    o["previous_gp_id"] = e.previous_gp_id;
  }
  void operator()(const SchoolEnrolled& e) { School(e.school, e.class_label, e.role); }
  void operator()(const SchoolLeft& e) { School(e.school, e.class_label, e.role); }
  void operator()(const SwabRequested& e) {
    o["swab_id"] = e.swab_id;
    o["kind"] = ToString(e.kind);
    o["reason"] = e.reason;
    o["requested_by"] = e.requested_by;
    o["requested_at"] = e.requested_at.micros == 0 ? json::value(nullptr) : json::value(e.requested_at.ToString());
  }
  void operator()(const SwabCollected& e) {
    o["swab_id"] = e.swab_id;
    o["collected_at"] = e.collected_at.ToString();
    o["site"] = e.site;
    o["lab_id"] = e.lab_id;
  }
  void operator()(const SampleHandedOver& e) {
    o["swab_id"] = e.swab_id;
    o["from_lab"] = e.from_lab;
    o["to_lab"] = e.to_lab;
    o["handed_over_at"] = e.handed_over_at.ToString();
  }
  void operator()(const ResultRecorded& e) {
    o["swab_id"] = e.swab_id;
    o["outcome"] = ToString(e.outcome);
    o["lab_id"] = e.lab_id;
    o["reported_at"] = e.reported_at.ToString();
  }
  void operator()(const ResultCorrected& e) {
    o["swab_id"] = e.swab_id;
    o["previous_outcome"] = ToString(e.previous_outcome);
    o["outcome"] = ToString(e.outcome);
    o["reason"] = e.reason;
    o["lab_id"] = e.lab_id;
    o["corrected_at"] = e.corrected_at.ToString();
  }
  void operator()(const IsolationOrdered& e) {
    o["measure_id"] = e.measure_id;
    o["start"] = e.start.ToString();
    o["reason"] = e.reason;
    o["end"] = DateOrNull(e.end);
  }
  void operator()(const QuarantineOrdered& e) {
    o["measure_id"] = e.measure_id;
    o["start"] = e.start.ToString();
    o["reason"] = e.reason;
    o["source_case"] = e.source_case;
    o["end"] = DateOrNull(e.end);
  }
  void operator()(const MeasureEnded& e) {
    o["measure_id"] = e.measure_id;
    o["at"] = e.at.ToString();
    o["reason"] = ToString(e.reason);
  }
  void operator()(const ContactReported& e) {
    o["contact_of"] = e.contact_of;
    o["last_exposure"] = e.last_exposure.ToString();
  }
  void operator()(const VaccinationRecorded& e) {
    o["dose"] = e.dose;
    o["date"] = e.date.ToString();
    o["product"] = e.product;
  }
  void operator()(const Hospitalized& e) { Stay(e.at, e.facility); }
  void operator()(const IcuAdmitted& e) { Stay(e.at, e.facility); }
  void operator()(const Discharged& e) { Stay(e.at, e.facility); }
  void operator()(const CaseClosed& e) {
    o["outcome"] = ToString(e.outcome);
    o["at"] = e.at.ToString();
  }
  void operator()(const PersonalDataErased& e) { o["legal_reason"] = e.legal_reason; }
  void operator()(const ClassQuarantineOrdered& e) {
    o["class_label"] = e.class_label;
    o["start"] = e.start.ToString();
    o["reason"] = e.reason;
    o["end"] = DateOrNull(e.end);
  }
  void operator()(const RulesAdopted& e) {
    o["rule_set_id"] = e.rule_set_id;
    o["effective_from"] = e.effective_from.ToString();
    // The text comes from our own log (RuleSet::ToJson), so no depth limit is needed;
    // a parse failure is not thrown so that one bad record cannot break a history answer.
    boost::system::error_code ec;
    json::value rules = json::parse(e.rules_json, ec);
    if (!ec && rules.is_object()) {
      o["rules"] = std::move(rules);
    } else {
      o["rules"] = e.rules_json;
    }
  }
  void operator()(const AccessGranted& e) { Access(e.user, e.role, e.scope); }
  void operator()(const AccessRevoked& e) { Access(e.user, e.role, e.scope); }

  void School(const std::string& school, const std::string& class_label, SchoolRole role) {
    o["school"] = school;
    o["class_label"] = class_label;
    o["role"] = ToString(role);
  }
  void Stay(Timestamp at, const std::string& facility) {
    o["at"] = at.ToString();
    o["facility"] = facility;
  }
  void Access(const std::string& user, const std::string& role, const std::string& scope) {
    o["user"] = user;
    o["role"] = role;
    o["scope"] = scope;
  }
};

}  // namespace

boost::json::object EventToJson(const Event& event, bool include_personal) {
  json::object o;
  o["type"] = TypeName(event);
  std::visit(FieldWriter{o, include_personal}, event);
  return o;
}

boost::json::object EnvelopeToJson(const Envelope& envelope, const Event& decoded,
                                   bool include_personal) {
  json::object o;
  o["position"] = envelope.position;
  o["stream"] = envelope.stream;
  o["version"] = envelope.version;
  o["type"] = envelope.type;
  o["schema_version"] = envelope.schema_version;
  o["recorded_at"] = envelope.recorded_at.ToString();
  o["effective_at"] = envelope.effective_at.ToString();
  o["actor"] = json::object{{"id", envelope.actor.id}, {"role", envelope.actor.role}};
  auto put_if_set = [&](const char* key, const std::string& v) {
    if (!v.empty()) o[key] = v;
  };
  put_if_set("correlation_id", envelope.correlation_id);
  put_if_set("causation_id", envelope.causation_id);
  put_if_set("idempotency_key", envelope.idempotency_key);
  o["prev_hash"] = HexHash(envelope.prev_hash);
  o["hash"] = HexHash(envelope.hash);
  json::object event = EventToJson(decoded, include_personal);
  // The shape stays: an erased event says so where its personal fields were.
  if (include_personal && envelope.personal_form == PersonalForm::kErased) event["personal"] = "erased";
  o["event"] = std::move(event);
  return o;
}

std::string HexHash(const Hash& h) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(h.size() * 2);
  for (uint8_t byte : h) {
    out.push_back(kDigits[byte >> 4]);
    out.push_back(kDigits[byte & 0x0f]);
  }
  return out;
}

}  // namespace caseledger::domain
