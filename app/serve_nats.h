// serve's NATS flags (docs/nats.md): --nats URL[,URL...] [--nats-replicas N] [--ship-standby]
// for the relay (and the warm standby's shipper, docs/standby.md), --replica-of URL[,URL...]
// [--replica-name NAME] [--primary URL] for a read replica, --standby-of URL[,URL...]
// [--primary URL] for a warm standby.
#pragma once

#include "api/service.h"
#include "app/flags.h"

#include <string>

namespace caseledger::app {

// The flag names this adds to serve's.
inline const char* const kNatsFlags[] = {"nats", "nats-replicas", "replica-of", "replica-name", "primary", "standby-of"};

// Fills options.relay / options.replica / options.ship_standby / options.standby; false with `error` on a usage error. A replica
// without --replica-name keeps its durable consumer name in DIR/replica.name (created on
// first start), so a restart continues the same consumer.
bool ApplyNatsFlags(const Flags& flags, api::ServiceOptions& options, std::string* error);

}  // namespace caseledger::app
