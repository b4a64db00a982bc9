#include "replay/rules_log.h"

#include "domain/event_codec.h"
#include "domain/events.h"

#include <algorithm>

namespace caseledger::replay {
namespace {

using eventstore::StoreError;
using eventstore::StoreErrorCode;
using eventstore::StoreResult;

constexpr size_t kReadChunk = 1024;

eventstore::NewEvent Encoded(const domain::RuleSet& set) {
  domain::RulesAdopted event{set.id(), set.effective_from(), set.ToJson()};
  domain::EncodedEvent enc = domain::Encode(event);
  return {enc.type, enc.schema_version, enc.body, enc.personal,
          domain::Timestamp::StartOfDay(set.effective_from())};
}

// The sets in force after applying `adoptions` in order: same id or same effective date
// is replaced by the later adoption.
std::shared_ptr<const domain::RuleBook> BuildBook(const std::vector<const domain::RuleSet*>& sets) {
  std::vector<const domain::RuleSet*> current;
  for (const domain::RuleSet* s : sets) {
    std::erase_if(current, [&](const domain::RuleSet* c) {
      return c->id() == s->id() || c->effective_from() == s->effective_from();
    });
    current.push_back(s);
  }
  auto book = std::make_shared<domain::RuleBook>();
  for (const domain::RuleSet* s : current) {
    // Cannot conflict: duplicates were removed above.
    (void)book->Add(*s);
  }
  return book;
}

}  // namespace

StoreResult<RulesLog> RulesLog::Read(const eventstore::EventStore& store, uint64_t up_to) {
  RulesLog log;
  const std::string stream(domain::kRulesStream);
  for (uint64_t from = 1;;) {
    auto chunk = store.ReadStream(stream, from, kReadChunk);
    if (!chunk) return chunk.error();
    for (const domain::Envelope& env : *chunk) {
      if (env.position > up_to) return log;
      auto event = domain::Decode(env.type, env.schema_version, env.body, env.personal);
      const auto* adopted = event ? std::get_if<domain::RulesAdopted>(&*event) : nullptr;
      if (adopted == nullptr) {
        return StoreError(StoreErrorCode::kCorruption, "rules stream: " + env.type + " at position " +
                          std::to_string(env.position) + " is not a RulesAdopted", 0, env.position);
      }
      auto set = domain::RuleSet::Parse(adopted->rules_json);
      if (!set) {
        return StoreError(StoreErrorCode::kCorruption, "rule set " + adopted->rule_set_id + " at position " +
                          std::to_string(env.position) + " does not parse: " + set.error().message,
                          0, env.position);
      }
      Adoption a;
      a.position = env.position;
      a.version = env.version;
      a.recorded_at = env.recorded_at;
      a.actor = env.actor;
      a.set = std::make_shared<const domain::RuleSet>(std::move(*set));
      for (Adoption& earlier : log.adoptions_) {
        if (earlier.superseded_at == 0 && (earlier.set->id() == a.set->id() ||
                                           earlier.set->effective_from() == a.set->effective_from())) {
          earlier.superseded_at = a.position;
        }
      }
      log.adoptions_.push_back(std::move(a));
    }
    if (chunk->size() < kReadChunk) return log;
    from = chunk->back().version + 1;
  }
}

std::shared_ptr<const domain::RuleBook> RulesLog::Book(uint64_t up_to) const {
  std::vector<const domain::RuleSet*> sets;
  for (const Adoption& a : adoptions_) {
    if (a.position <= up_to) sets.push_back(a.set.get());
  }
  return BuildBook(sets);
}

std::shared_ptr<const domain::RuleBook> RulesLog::BookWith(const domain::RuleSet& candidate) const {
  std::vector<const domain::RuleSet*> sets;
  for (const Adoption& a : adoptions_) sets.push_back(a.set.get());
  sets.push_back(&candidate);
  return BuildBook(sets);
}

StoreResult<eventstore::AppendResult> RecordAdoption(eventstore::EventStore& store, const domain::RuleSet& set,
                                                     const RecordOptions& options) {
  eventstore::AppendRequest r;
  r.stream = std::string(domain::kRulesStream);
  r.expected = options.expected_version
                   ? (*options.expected_version == 0 ? eventstore::ExpectedVersion::NoStream()
                                                     : eventstore::ExpectedVersion::Exactly(*options.expected_version))
                   : eventstore::ExpectedVersion::Any();
  r.actor = options.actor;
  r.correlation_id = options.correlation_id;
  r.events.push_back(Encoded(set));
  return store.Append(r);
}

StoreResult<size_t> BootstrapRules(eventstore::EventStore& store, const domain::RuleBook& shipped,
                                   const domain::Actor& actor) {
  auto version = store.StreamVersion(std::string(domain::kRulesStream));
  if (!version) return version.error();
  if (*version != 0 || shipped.sets().empty()) return size_t{0};
  eventstore::AppendRequest r;
  r.stream = std::string(domain::kRulesStream);
  r.expected = eventstore::ExpectedVersion::NoStream();
  r.actor = actor;
  r.correlation_id = "bootstrap-shipped-rules";
  for (const domain::RuleSet& set : shipped.sets()) r.events.push_back(Encoded(set));
  auto appended = store.Append(r);
  if (!appended) {
    if (appended.error().code == StoreErrorCode::kWrongExpectedVersion) return size_t{0};
    return appended.error();
  }
  return shipped.sets().size();
}

}  // namespace caseledger::replay
