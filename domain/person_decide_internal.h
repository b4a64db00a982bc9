// Private to domain/: the pieces of person Decide, split by area.
#pragma once

#include "domain/person.h"

namespace caseledger::domain::internal {

// A decision of one event.
Result<Decision> One(Event event, Timestamp effective_at, std::vector<std::string> claims);

// Swabs, results, measures, contacts, vaccinations, hospital, closure.
Result<Decision> DecideClinical(const PersonState& s, const RequestSwab& c, const DecideContext& ctx);
Result<Decision> DecideClinical(const PersonState& s, const CollectSwab& c, const DecideContext& ctx);
Result<Decision> DecideClinical(const PersonState& s, const RecordResult& c, const DecideContext& ctx);
Result<Decision> DecideClinical(const PersonState& s, const HandOverSample& c, const DecideContext& ctx);
Result<Decision> DecideClinical(const PersonState& s, const CorrectResult& c, const DecideContext& ctx);
Result<Decision> DecideClinical(const PersonState& s, const OrderIsolation& c, const DecideContext& ctx);
Result<Decision> DecideClinical(const PersonState& s, const OrderQuarantine& c, const DecideContext& ctx);
Result<Decision> DecideClinical(const PersonState& s, const EndMeasure& c, const DecideContext& ctx);
Result<Decision> DecideClinical(const PersonState& s, const ReportContact& c, const DecideContext& ctx);
Result<Decision> DecideClinical(const PersonState& s, const RecordVaccination& c, const DecideContext& ctx);
Result<Decision> DecideClinical(const PersonState& s, const Hospitalize& c, const DecideContext& ctx);
Result<Decision> DecideClinical(const PersonState& s, const AdmitToIcu& c, const DecideContext& ctx);
Result<Decision> DecideClinical(const PersonState& s, const Discharge& c, const DecideContext& ctx);
Result<Decision> DecideClinical(const PersonState& s, const CloseCase& c, const DecideContext& ctx);

}  // namespace caseledger::domain::internal
