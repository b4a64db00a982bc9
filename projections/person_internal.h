// Private to projections/: the rules shared by PersonDirectory::Apply (which changes the
// record) and PersonDirectory::Effects (which reads the record before the change), so the
// two agree on every date.
#pragma once

#include "projections/person_directory.h"

#include <optional>
#include <string_view>

namespace caseledger::projections::internal {

// ActiveMeasure::end for a measure ordered on `record` (see there).
domain::Date PlannedEnd(const domain::RuleBook* rules, const PersonRecord& record, bool isolation,
                        domain::Date start, std::string_view reason,
                        const std::optional<domain::Date>& given_end);

// The episode rule of the domain (domain::PersonFacts::EpisodeWith) with swab `changed`
// taken as having `outcome` (a SwabRecord outcome byte): the episode after a result or
// correction, read before the record takes it.
using Episode = domain::Episode;
Episode EpisodeWith(const PersonRecord& record, uint64_t changed, uint8_t outcome);

// Moves the open case's gauge spells through `e`, read against `record` as it is before
// `e`: `spells` starts as record.spells (it may be that very vector: only `spells` is
// read for them) and ends as the spells after `e`. Appends the effect of every spell
// opened, closed or taken back to `out` when given.
void StepSpells(const PersonRecord& record, const LogEvent& e, std::vector<Spell>& spells,
                std::vector<Effect>* out);

}  // namespace caseledger::projections::internal
