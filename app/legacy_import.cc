#include "app/legacy_import.h"

#include "api/command_service.h"
#include "api/tax_code_claims.h"
#include "domain/event_codec.h"
#include "domain/validation.h"

#include <sodium.h>

namespace caseledger::app {
namespace {

// A person id for an export key that is not one: a ULID with the registration's instant
// and 80 bits of a hash of the key, so that the same export gives the same ids.
std::string DerivedPersonId(const std::string& key, domain::Timestamp at) {
  static constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  uint8_t bytes[16];
  uint64_t ms = static_cast<uint64_t>(std::max<int64_t>(0, at.micros / 1000));
  for (int i = 5; i >= 0; --i, ms >>= 8) bytes[i] = static_cast<uint8_t>(ms & 0xff);
  const std::string label = "caseledger-import/" + key;
  crypto_generichash(bytes + 6, 10, reinterpret_cast<const unsigned char*>(label.data()), label.size(), nullptr, 0);
  unsigned __int128 v = 0;
  for (uint8_t b : bytes) v = (v << 8) | b;
  std::string out(26, '0');
  for (int i = 25; i >= 0; --i, v >>= 5) out[i] = kAlphabet[static_cast<int>(v & 31)];
  return out;
}

// The role the command's route would have recorded for an operator or a laboratory.
const char* RoleOf(const domain::PersonCommand& c) {
  const bool lab = std::holds_alternative<domain::CollectSwab>(c) || std::holds_alternative<domain::RecordResult>(c) ||
                   std::holds_alternative<domain::CorrectResult>(c) || std::holds_alternative<domain::HandOverSample>(c);
  return lab ? "lab" : "operator";
}

// The field a store refusal is about.
std::string FieldOf(const eventstore::StoreError& e, const ImportLine& line) {
  if (e.code == eventstore::StoreErrorCode::kClaimTaken) {
    if (e.claim.starts_with("swab/")) return "swab_id";
    return "tax_code";
  }
  if (e.code == eventstore::StoreErrorCode::kInvalidArgument && e.message.starts_with("recorded-at")) return "recorded_at";
  return line.person.empty() ? "" : "person";
}

}  // namespace

std::string LineError::ToString() const {
  return "line " + std::to_string(line) + (field.empty() ? "" : ": " + field) + ": " + message;
}

LegacyImport::LegacyImport(const domain::ReferenceData& reference, const eventstore::EventStore& store,
                           eventstore::BulkImport& bulk, ImportPeople& people)
    : reference_(reference),
      store_(store),
      bulk_(bulk),
      store_empty_(store.CommittedPosition() == 0),
      people_(people) {}

void LegacyImport::Report(uint64_t line, std::string field, std::string message) {
  if (errors_.size() < max_errors_) errors_.push_back({line, std::move(field), std::move(message)});
}

bool LegacyImport::Fail(uint64_t line, std::string field, std::string message) {
  ++bad_lines_;
  Report(line, std::move(field), std::move(message));
  return false;
}

bool LegacyImport::Failed(const eventstore::StoreError& e) {
  if (!failure_) failure_ = e;
  return false;
}

eventstore::StoreResult<void> LegacyImport::ForEachDerivedId(
    const std::function<void(const std::string&, const std::string&)>& visit) {
  return people_.ForEach([&](const Person& p) {
    if (p.key != p.id) visit(p.key, p.id);
  });
}

LegacyImport::Person* LegacyImport::FindPerson(const std::string& key) {
  auto found = people_.Find(key);
  if (!found) return Failed(found.error()), nullptr;
  if (*found || store_empty_) return *found;
  // A person the store held before the import, named by its id.
  auto id = domain::ValidatePersonId(key, "person");
  if (!id) return nullptr;
  auto state = api::LoadPerson(store_, *id);
  if (!state || !state->registered) return nullptr;
  Person p;
  p.key = key;
  p.id = *id;
  p.state = std::move(*state);
  return people_.Add(std::move(p));
}

LegacyImport::Person* LegacyImport::FindBySwab(const std::string& swab_id) {
  auto found = people_.FindSwab(swab_id);
  if (!found) return Failed(found.error()), nullptr;
  if (*found || store_empty_) return *found;
  auto id = api::PersonOfClaim(store_, "swab/" + swab_id);
  if (!id) return nullptr;
  Person* p = FindPerson(*id);
  if (p && p->state.FindSwab(swab_id)) people_.AddSwab(swab_id, p);
  return p;
}

std::string LegacyImport::IdOf(const std::string& key) {
  auto found = people_.Find(key);
  if (!found) return Failed(found.error()), key;
  return *found ? (*found)->id : key;
}

std::optional<eventstore::StoreError> LegacyImport::Append(eventstore::AppendRequest request, domain::Timestamp at) {
  // Added even once the import is refused (it is then never committed): the claims and
  // versions of the lines after a bad one are checked as they would be.
  auto added = bulk_.Add(std::move(request), at);
  if (!added) return added.error();
  return std::nullopt;
}

bool LegacyImport::Apply(uint64_t number, domain::Result<ImportLine> parsed) {
  if (!parsed) {
    const domain::Error& e = parsed.error();
    if (e.fields.empty()) return Fail(number, "", e.message);
    for (size_t i = 1; i < e.fields.size(); ++i) Report(number, e.fields[i].field, e.fields[i].message);
    return Fail(number, e.fields.front().field, e.fields.front().message);
  }
  ImportLine& line = *parsed;
  if (line.at < last_at_) {
    return Fail(number, "recorded_at", line.at.ToString() + " is before the previous line's " + last_at_.ToString() +
                                  ": the export must be in recorded order");
  }
  last_at_ = line.at;
  if (failure_) return false;
  const bool applied =
      std::holds_alternative<domain::SchoolCommand>(line.body) ? RunSchool(number, line) : RunPerson(number, line);
  // Pointers to people are held only within a line: the budget is restored between lines.
  if (auto trimmed = people_.Trim(); !trimmed) return Failed(trimmed.error());
  return applied && !failure_;
}

bool LegacyImport::RunPerson(uint64_t number, ImportLine& line) {
  domain::PersonCommand& command = std::get<domain::PersonCommand>(line.body);
  const bool registers = std::holds_alternative<domain::RegisterPerson>(command);
  Person* person = nullptr;
  Person fresh;
  if (registers) {
    auto registered = people_.Find(line.person);
    if (!registered) return Failed(registered.error());
    if (*registered) return Fail(number, "person", "already registered at line " + std::to_string((*registered)->line));
    auto id = domain::ValidatePersonId(line.person, "person");
    fresh.key = line.person;
    fresh.id = id ? *id : DerivedPersonId(line.person, line.at);
    fresh.line = number;
    person = &fresh;
  } else if (!line.swab_id.empty()) {
    person = FindBySwab(line.swab_id);
    if (failure_) return false;
    if (!person) return Fail(number, "swab_id", "no swab " + line.swab_id + " was requested before");
    std::visit([&](auto& c) {
      if constexpr (requires { c.swab_id; }) c.swab_id = line.swab_id;
    }, command);
  } else {
    person = FindPerson(line.person);
    if (failure_) return false;
    if (!person) return Fail(number, "person", "no person " + line.person + " was registered before");
  }
  // References to other people hold export keys: the ids they were given.
  if (auto* c = std::get_if<domain::ReportContact>(&command)) c->contact_of = IdOf(c->contact_of);
  if (auto* c = std::get_if<domain::OrderQuarantine>(&command); c && !c->source_case.empty()) {
    c->source_case = IdOf(c->source_case);
  }
  if (failure_) return false;

  domain::DecideContext context{line.at, &reference_, registers ? person->id : ""};
  auto decision = domain::Decide(person->state, command, context);
  if (!decision) {
    const domain::Error& e = decision.error();
    return Fail(number, e.fields.empty() ? "" : e.fields.front().field, e.message);
  }
  if (std::holds_alternative<domain::ErasePersonalData>(command)) api::ReleaseTaxCodeEverywhere(reference_, *decision);

  eventstore::AppendRequest append;
  append.stream = domain::PersonStream(person->id);
  append.expected = person->state.version == 0 ? eventstore::ExpectedVersion::NoStream()
                                               : eventstore::ExpectedVersion::Exactly(person->state.version);
  append.actor = {line.actor, RoleOf(command)};
  append.claims = decision->claims;
  append.released_claims = decision->released_claims;
  append.erase_personal_data = decision->erases_personal_data;
  for (const domain::Decided& d : decision->events) {
    domain::EncodedEvent enc = domain::Encode(d.event);
    append.events.push_back({std::move(enc.type), enc.schema_version, std::move(enc.body), std::move(enc.personal),
                             d.effective_at});
  }
  if (auto refused = Append(std::move(append), line.at)) return Fail(number, FieldOf(*refused, line), refused->message);
  if (registers) person = people_.Add(std::move(fresh));
  for (const domain::Decided& d : decision->events) domain::Evolve(person->state, d.event);
  if (const auto* swab = std::get_if<domain::RequestSwab>(&command)) people_.AddSwab(swab->swab_id, person);
  return true;
}

bool LegacyImport::RunSchool(uint64_t number, ImportLine& line) {
  auto code = domain::ValidateSchoolCode(line.school, "school");
  if (!code) return Fail(number, "school", code.error().message);
  auto [it, added] = schools_.try_emplace(*code);
  domain::SchoolState& school = it->second;
  if (added) {
    school.school = *code;
    if (!store_empty_) {
      auto stored = api::LoadSchool(store_, *code);
      if (stored) school = std::move(*stored);
    }
  }
  domain::DecideContext context{line.at, &reference_, ""};
  auto decision = domain::Decide(school, std::get<domain::SchoolCommand>(line.body), context);
  if (!decision) {
    const domain::Error& e = decision.error();
    return Fail(number, e.fields.empty() ? "" : e.fields.front().field, e.message);
  }
  eventstore::AppendRequest append;
  append.stream = domain::SchoolStream(*code);
  append.expected = school.version == 0 ? eventstore::ExpectedVersion::NoStream()
                                        : eventstore::ExpectedVersion::Exactly(school.version);
  append.actor = {line.actor, "operator"};
  for (const domain::Decided& d : decision->events) {
    domain::EncodedEvent enc = domain::Encode(d.event);
    append.events.push_back({std::move(enc.type), enc.schema_version, std::move(enc.body), std::move(enc.personal),
                             d.effective_at});
  }
  if (auto refused = Append(std::move(append), line.at)) return Fail(number, FieldOf(*refused, line), refused->message);
  for (const domain::Decided& d : decision->events) domain::Evolve(school, d.event);
  return true;
}

}  // namespace caseledger::app
