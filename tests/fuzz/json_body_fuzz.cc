// JSON request bodies (api/json_body.h): the strict parse every command body goes through,
// then typed reads of every member as each kind of field, as the route readers
// (route_helpers.h) do, and the unknown-field check.
#include "api/json_body.h"
#include "tests/fuzz/fuzz_target.h"

CASELEDGER_FUZZ_TARGET(json_body) {
  namespace api = caseledger::api;
  std::string error;
  auto object = api::ParseJsonObject(caseledger::fuzz::AsText(data, size), &error);
  if (!object) {
    FUZZ_CHECK(!error.empty());
    return 0;
  }
  caseledger::domain::FieldErrors errors;
  api::JsonFields fields(*object, errors, "rows[0].");
  size_t i = 0;
  for (const auto& member : *object) {
    std::string_view name = member.key();
    switch (i++ % 6) {
      case 0: (void)fields.String(name); break;
      case 1: (void)fields.Int(name); break;
      case 2: (void)fields.Bool(name); break;
      case 3: (void)fields.Date(name); break;
      case 4: (void)fields.Time(name); break;
      default: (void)fields.Raw(name); break;
    }
  }
  // A body may itself carry the probed name (libFuzzer's comparison tracing finds it): then
  // the read can succeed and every member be known, and no error is owed.
  constexpr std::string_view kProbe = "required_but_absent";
  const bool probe_present = object->contains(kProbe);
  (void)fields.String(kProbe);
  fields.RejectUnknown();
  FUZZ_CHECK(probe_present || !errors.empty());  // the absent required field at least
  (void)errors.ToError();
  return 0;
}
