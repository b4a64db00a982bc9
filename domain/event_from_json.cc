// Reading the public JSON form back into events: what a read replica does with the
// envelopes the NATS relay published (docs/nats.md). The field names and encodings mirror
// FieldWriter in event_json.cc; event_json_test.cc checks the round trip for every type.
#include "domain/event_codec.h"
#include "domain/event_json.h"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <optional>
#include <utility>

namespace caseledger::domain {
namespace {

namespace json = boost::json;

// Collects the first problem; every getter leaves its output untouched after one.
struct FieldReader {
  const json::object& o;
  std::optional<Error> error;

  const json::value* Find(const char* key) {
    const json::value* v = o.if_contains(key);
    if (v == nullptr && !error) error = Error::Invalid(key, "missing");
    return v;
  }
  void Fail(const char* key, const char* why) {
    if (!error) error = Error::Invalid(key, why);
  }
  void Str(const char* key, std::string& out) {
    const json::value* v = Find(key);
    if (v == nullptr) return;
    if (!v->is_string()) return Fail(key, "not a string");
    out = std::string(v->get_string());
  }
  void U32(const char* key, uint32_t& out) {
    const json::value* v = Find(key);
    if (v == nullptr) return;
    if (v->is_uint64() && v->get_uint64() <= UINT32_MAX) {
      out = static_cast<uint32_t>(v->get_uint64());
    } else if (v->is_int64() && v->get_int64() >= 0 && v->get_int64() <= UINT32_MAX) {
      out = static_cast<uint32_t>(v->get_int64());
    } else {
      Fail(key, "not a 32-bit unsigned number");
    }
  }
  void Day(const char* key, Date& out) {
    std::string text;
    Str(key, text);
    if (error) return;
    auto d = Date::Parse(text);
    if (!d) return Fail(key, "not a date");
    out = *d;
  }
  void OptDay(const char* key, std::optional<Date>& out) {
    const json::value* v = o.if_contains(key);
    if (v == nullptr || v->is_null()) {
      out.reset();
      return;
    }
    Date d;
    Day(key, d);
    if (!error) out = d;
  }
  void Instant(const char* key, Timestamp& out) {
    std::string text;
    Str(key, text);
    if (error) return;
    auto t = Timestamp::Parse(text);
    if (!t) return Fail(key, "not an RFC 3339 instant");
    out = *t;
  }
  template <class E>
  void Enum(const char* key, E& out, std::optional<E> (*parse)(std::string_view)) {
    std::string text;
    Str(key, text);
    if (error) return;
    auto e = parse(text);
    if (!e) return Fail(key, "unknown value");
    out = *e;
  }

  void operator()(PersonRegistered& e) {
    Str("person_id", e.person_id);
    Enum("sex", e.sex, ParseSex);
    Str("residence_istat", e.residence_istat);
  }
  void operator()(ResidenceChanged& e) {
    Str("from_istat", e.from_istat);
    Str("to_istat", e.to_istat);
  }
  void operator()(GpAssigned& e) {
    Str("gp_id", e.gp_id);
    Str("previous_gp_id", e.previous_gp_id);
  }
  void operator()(SchoolEnrolled& e) { School(e.school, e.class_label, e.role); }
  void operator()(SchoolLeft& e) { School(e.school, e.class_label, e.role); }
  void operator()(SwabRequested& e) {
    Str("swab_id", e.swab_id);
    Enum("kind", e.kind, ParseSwabKind);
    Str("reason", e.reason);
    Str("requested_by", e.requested_by);
  }
  void operator()(SwabCollected& e) {
    Str("swab_id", e.swab_id);
    Instant("collected_at", e.collected_at);
    Str("site", e.site);
  }
  void operator()(ResultRecorded& e) {
    Str("swab_id", e.swab_id);
    Enum("outcome", e.outcome, ParseOutcome);
    Str("lab_id", e.lab_id);
    Instant("reported_at", e.reported_at);
  }
  void operator()(ResultCorrected& e) {
    Str("swab_id", e.swab_id);
    Enum("previous_outcome", e.previous_outcome, ParseOutcome);
    Enum("outcome", e.outcome, ParseOutcome);
    Str("reason", e.reason);
    Str("lab_id", e.lab_id);
    Instant("corrected_at", e.corrected_at);
  }
  void operator()(IsolationOrdered& e) {
    U32("measure_id", e.measure_id);
    Day("start", e.start);
    Str("reason", e.reason);
    OptDay("end", e.end);
  }
  void operator()(QuarantineOrdered& e) {
    U32("measure_id", e.measure_id);
    Day("start", e.start);
    Str("reason", e.reason);
    Str("source_case", e.source_case);
    OptDay("end", e.end);
  }
  void operator()(MeasureEnded& e) {
    U32("measure_id", e.measure_id);
    Day("at", e.at);
    Enum("reason", e.reason, ParseMeasureEndReason);
  }
  void operator()(ContactReported& e) {
    Str("contact_of", e.contact_of);
    Day("last_exposure", e.last_exposure);
  }
  void operator()(VaccinationRecorded& e) {
    U32("dose", e.dose);
    Day("date", e.date);
    Str("product", e.product);
  }
  void operator()(Hospitalized& e) { Stay(e.at, e.facility); }
  void operator()(IcuAdmitted& e) { Stay(e.at, e.facility); }
  void operator()(Discharged& e) { Stay(e.at, e.facility); }
  void operator()(CaseClosed& e) {
    Enum("outcome", e.outcome, ParseCaseOutcome);
    Day("at", e.at);
  }
  void operator()(PersonalDataErased& e) { Str("legal_reason", e.legal_reason); }
  void operator()(ClassQuarantineOrdered& e) {
    Str("class_label", e.class_label);
    Day("start", e.start);
    Str("reason", e.reason);
    OptDay("end", e.end);
  }
  void operator()(RulesAdopted& e) {
    Str("rule_set_id", e.rule_set_id);
    Day("effective_from", e.effective_from);
    // EventToJson parsed the canonical text into an object; serializing it back gives the
    // same canonical text only if the writer's key order survives, which boost::json
    // objects keep (insertion order).
    const json::value* v = Find("rules");
    if (v == nullptr) return;
    if (v->is_string()) {
      e.rules_json = std::string(v->get_string());
    } else if (v->is_object()) {
      e.rules_json = json::serialize(*v);
    } else {
      Fail("rules", "not an object");
    }
  }
  void operator()(AccessGranted& e) { Access(e.user, e.role, e.scope); }
  void operator()(AccessRevoked& e) { Access(e.user, e.role, e.scope); }

  void School(std::string& school, std::string& class_label, SchoolRole& role) {
    Str("school", school);
    Str("class_label", class_label);
    Enum("role", role, ParseSchoolRole);
  }
  void Stay(Timestamp& at, std::string& facility) {
    Instant("at", at);
    Str("facility", facility);
  }
  void Access(std::string& user, std::string& role, std::string& scope) {
    Str("user", user);
    Str("role", role);
    Str("scope", scope);
  }
};

// A default-constructed event of the alternative named `type`.
template <size_t I = 0>
std::optional<Event> MakeEvent(std::string_view type) {
  if constexpr (I == std::variant_size_v<Event>) {
    return std::nullopt;
  } else {
    using T = std::variant_alternative_t<I, Event>;
    if (T::kType == type) return Event(std::in_place_index<I>);
    return MakeEvent<I + 1>(type);
  }
}

}  // namespace

Result<Event> EventFromJson(const boost::json::object& o) {
  const json::value* type = o.if_contains("type");
  if (type == nullptr || !type->is_string()) return Error::Invalid("type", "missing or not a string");
  auto event = MakeEvent(type->get_string());
  if (!event) return Error::Invalid("type", "unknown event type " + std::string(type->get_string()));
  FieldReader reader{o, std::nullopt};
  std::visit(reader, *event);
  if (reader.error) return *reader.error;
  return *event;
}

Result<PublicEnvelope> EnvelopeFromJson(const boost::json::object& o) {
  FieldReader r{o, std::nullopt};
  PublicEnvelope out;
  Envelope& env = out.envelope;
  auto u64 = [&](const char* key, uint64_t& v) {
    const json::value* x = r.Find(key);
    if (x == nullptr) return;
    if (x->is_uint64()) {
      v = x->get_uint64();
    } else if (x->is_int64() && x->get_int64() >= 0) {
      v = static_cast<uint64_t>(x->get_int64());
    } else {
      r.Fail(key, "not an unsigned number");
    }
  };
  u64("position", env.position);
  u64("version", env.version);
  r.Str("stream", env.stream);
  r.Str("type", env.type);
  r.Instant("recorded_at", env.recorded_at);
  r.Instant("effective_at", env.effective_at);
  auto optional_str = [&](const char* key, std::string& v) {
    if (o.contains(key)) r.Str(key, v);
  };
  optional_str("correlation_id", env.correlation_id);
  optional_str("causation_id", env.causation_id);
  const json::value* actor = r.Find("actor");
  if (actor != nullptr) {
    if (!actor->is_object()) {
      r.Fail("actor", "not an object");
    } else {
      FieldReader a{actor->get_object(), std::nullopt};
      a.Str("id", env.actor.id);
      a.Str("role", env.actor.role);
      if (a.error && !r.error) r.error = Error::Invalid("actor." + a.error->fields.front().field, a.error->message);
    }
  }
  if (r.error) return *r.error;
  if (env.position == 0) return Error::Invalid("position", "must be at least 1");
  const json::value* event = o.if_contains("event");
  if (event == nullptr || !event->is_object()) return Error::Invalid("event", "missing or not an object");
  auto decoded = EventFromJson(event->get_object());
  if (!decoded) return decoded.error();
  if (TypeName(*decoded) != env.type) return Error::Invalid("event.type", "differs from the envelope's type");
  EncodedEvent encoded = Encode(*decoded);
  env.schema_version = encoded.schema_version;
  env.body = std::move(encoded.body);
  out.event = std::move(*decoded);
  return out;
}

}  // namespace caseledger::domain
