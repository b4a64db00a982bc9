// Rule sets live in the log (docs/formats.md): every RulesAdopted event of the "rules" stream
// carries one whole rule set in its canonical JSON with its effective date. The rule book
// the views, the person answers and the what-if use is built from those events, never
// from files; the shipped Italian sequence (ops/rules/) is recorded once, on the first
// start of a store whose rules stream is empty (BootstrapRules).
//
// Which set decides a measure: the set in force on the measure's start day (RuleBook),
// among every set adopted in the log. A later adoption with the same id or the same
// effective date supersedes the earlier one (a corrected act). Adopting a set whose
// effective date lies in the past therefore re-evaluates the past measures it covers; that
// only ever happens through the adoption flow (what-if diff, then a blue-green rebuild of
// every view: blue_green.h), never by a running view changing under its readers: a live
// view keeps the book it was built with until the rebuilt one replaces it.
//
// Thread safety: RulesLog is immutable once read; share it freely.
#pragma once

#include "domain/envelope.h"
#include "domain/rules.h"
#include "eventstore/event_store.h"

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <vector>

namespace caseledger::replay {

// One RulesAdopted event of the log.
struct Adoption {
  uint64_t position = 0;
  uint64_t version = 0;  // in the rules stream
  domain::Timestamp recorded_at;
  domain::Actor actor;
  std::shared_ptr<const domain::RuleSet> set;
  uint64_t superseded_at = 0;  // position of the adoption that replaced it; 0: still current
};

class RulesLog {
 public:
  static constexpr uint64_t kAll = std::numeric_limits<uint64_t>::max();

  // Reads every RulesAdopted of the rules stream with position <= up_to. kCorruption when
  // one does not decode or its rules do not parse (the log is the truth: never skipped).
  static eventstore::StoreResult<RulesLog> Read(const eventstore::EventStore& store, uint64_t up_to = kAll);

  const std::vector<Adoption>& adoptions() const { return adoptions_; }
  // Position of the last adoption read (0: none). Identifies the book: two books built
  // from the same log up to the same adoption are equal.
  uint64_t last_position() const { return adoptions_.empty() ? 0 : adoptions_.back().position; }
  uint64_t stream_version() const { return adoptions_.empty() ? 0 : adoptions_.back().version; }

  // The book of the sets adopted at positions <= up_to, superseded ones left out.
  std::shared_ptr<const domain::RuleBook> Book(uint64_t up_to = kAll) const;
  // The same book with `candidate` adopted after everything read (what-if).
  std::shared_ptr<const domain::RuleBook> BookWith(const domain::RuleSet& candidate) const;

 private:
  std::vector<Adoption> adoptions_;
};

struct RecordOptions {
  domain::Actor actor{"system", "system"};
  std::string correlation_id;
  // The rules stream version the caller saw (optimistic concurrency); nullopt: any.
  std::optional<uint64_t> expected_version;
};

// Appends one RulesAdopted for `set` (effective-at: the start of its effective day).
eventstore::StoreResult<eventstore::AppendResult> RecordAdoption(eventstore::EventStore& store,
                                                                 const domain::RuleSet& set,
                                                                 const RecordOptions& options);

// When the rules stream is empty, records every set of `shipped` (in effective order, one
// atomic append) and returns how many; 0 when the stream already has sets. Two servers
// racing on one empty store cannot both record: the append expects no stream.
eventstore::StoreResult<size_t> BootstrapRules(eventstore::EventStore& store, const domain::RuleBook& shipped,
                                               const domain::Actor& actor = {"system", "system"});

}  // namespace caseledger::replay
