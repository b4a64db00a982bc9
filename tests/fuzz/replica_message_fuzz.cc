// A JetStream message as a read replica takes it (eventstore/replica_message.h): the
// Caseledger-Position header's value up to the first newline of the input, the body after
// it. Property: an envelope that decodes is at the header's position and, written out
// again, decodes to the same envelope.
#include "eventstore/replica_message.h"
#include "tests/fuzz/fuzz_target.h"

#include <boost/json/serialize.hpp>

CASELEDGER_FUZZ_TARGET(replica_message) {
  namespace eventstore = caseledger::eventstore;
  std::string_view in = caseledger::fuzz::AsText(data, size);
  const size_t nl = in.find('\n');
  if (nl == std::string_view::npos) return 0;
  const uint64_t position = eventstore::ParsePositionHeader(in.substr(0, nl));
  auto env = eventstore::DecodeReplicaMessage(position, in.substr(nl + 1));
  if (!env) {
    FUZZ_CHECK(!env.error().message.empty());
    return 0;
  }
  FUZZ_CHECK(position != 0 && env->envelope.position == position);
  const std::string again =
      boost::json::serialize(caseledger::domain::EnvelopeToJson(env->envelope, env->event, false));
  auto env2 = eventstore::DecodeReplicaMessage(position, again);
  FUZZ_CHECK(env2.has_value());
  FUZZ_CHECK(env2->envelope == env->envelope);
  return 0;
}
