// The public JSON form of events and envelopes read back (domain/event_json.h:
// EventFromJson, EnvelopeFromJson), as a replica reads what the relay published.
// Property: an event that reads back writes the same public JSON again.
#include "domain/event_json.h"
#include "tests/fuzz/fuzz_target.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

CASELEDGER_FUZZ_TARGET(event_json) {
  namespace domain = caseledger::domain;
  boost::json::parse_options po;
  po.max_depth = 64;
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(caseledger::fuzz::AsText(data, size), ec, {}, po);
  if (ec || !v.is_object()) return 0;
  if (auto event = domain::EventFromJson(v.get_object())) {
    boost::json::object once = domain::EventToJson(*event, false);
    auto again = domain::EventFromJson(once);
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(boost::json::serialize(domain::EventToJson(*again, false)) == boost::json::serialize(once));
  }
  (void)domain::EnvelopeFromJson(v.get_object());
  return 0;
}
