// One line of a legacy export for `caseledger import` (docs/import.md): a JSON object naming
// the command, when it was recorded, whom it is about, and the command's HTTP body
// (api/command_bodies.h reads it, as the route would).
#pragma once

#include "domain/commands.h"
#include "domain/error.h"
#include "domain/time.h"

#include <string>
#include <string_view>
#include <variant>

namespace caseledger::app {

struct ImportLine {
  std::string command;    // "register_person", ...
  domain::Timestamp at;   // "recorded_at": recorded-at of its events
  std::string person;     // the export's key of the person (person commands but swab ones)
  std::string swab_id;    // swab commands: names the person through the swab
  std::string school;     // class_quarantine
  std::string actor;      // who did it in the legacy system ("import" when absent)
  std::variant<domain::PersonCommand, domain::SchoolCommand> body;
};

// Parses one line. Errors name the field ("at", "command", "birth_date", ...); unknown
// fields are errors, as in a request body.
domain::Result<ImportLine> ParseImportLine(std::string_view text);

// The command names, for help and errors.
std::string ImportCommandNames();

}  // namespace caseledger::app
