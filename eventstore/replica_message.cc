#include "eventstore/replica_message.h"

#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>

#include <charconv>

namespace caseledger::eventstore {

uint64_t ParsePositionHeader(std::string_view value) {
  uint64_t position = 0;
  const char* end = value.data() + value.size();
  auto [ptr, ec] = std::from_chars(value.data(), end, position);
  return ec == std::errc() && ptr == end ? position : 0;
}

domain::Result<domain::PublicEnvelope> DecodeReplicaMessage(uint64_t position, std::string_view body) {
  if (position == 0) return domain::Error::Invalid("position", "no position header");
  boost::json::parse_options po;
  po.max_depth = 64;
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(body, ec, {}, po);
  if (ec || !v.is_object()) return domain::Error::Invalid("body", "not an envelope");
  auto env = domain::EnvelopeFromJson(v.get_object());
  if (!env) return env;
  if (env->envelope.position != position) {
    return domain::Error::Invalid("position", "the header says " + std::to_string(position) +
                                                  ", the envelope " + std::to_string(env->envelope.position));
  }
  return env;
}

}  // namespace caseledger::eventstore
