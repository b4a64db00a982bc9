#include "app/import_lines.h"

#include "api/command_bodies.h"
#include "api/json_body.h"

#include <functional>
#include <map>

namespace caseledger::app {
namespace {

using domain::FieldErrors;

// What names the command's subject in a line.
enum class Subject { kPerson, kSwab, kSchool };

struct Reader {
  Subject subject;
  std::function<std::variant<domain::PersonCommand, domain::SchoolCommand>(api::JsonFields&, FieldErrors&)> read;
};

template <class Command>
Reader Body(Subject subject, void (*read)(api::JsonFields&, Command&, FieldErrors&)) {
  return {subject, [read](api::JsonFields& f, FieldErrors& e) -> std::variant<domain::PersonCommand, domain::SchoolCommand> {
            Command c;
            read(f, c, e);
            if constexpr (std::is_same_v<Command, domain::OrderClassQuarantine>) {
              c.class_label = f.String("class").value_or("");
              return domain::SchoolCommand{std::move(c)};
            } else {
              if constexpr (std::is_same_v<Command, domain::EndMeasure>) {
                auto id = f.Int("measure_id");
                if (id && (*id < 1 || *id > 1'000'000)) e.Add("measure_id", "must be a measure id (1 or more)");
                c.measure_id = static_cast<uint32_t>(id.value_or(0));
              }
              return domain::PersonCommand{std::move(c)};
            }
          }};
}

const std::map<std::string, Reader, std::less<>>& Readers() {
  static const std::map<std::string, Reader, std::less<>> readers = {
      {"register_person", Body(Subject::kPerson, api::ReadRegisterPerson)},
      {"change_residence", Body(Subject::kPerson, api::ReadChangeResidence)},
      {"assign_gp", Body(Subject::kPerson, api::ReadAssignGp)},
      {"enrol_in_school", Body(Subject::kPerson, api::ReadEnrolInSchool)},
      {"leave_school", Body(Subject::kPerson, api::ReadLeaveSchool)},
      {"record_vaccination", Body(Subject::kPerson, api::ReadRecordVaccination)},
      {"request_swab", Body(Subject::kPerson, api::ReadRequestSwab)},
      {"collect_swab", Body(Subject::kSwab, api::ReadCollectSwab)},
      {"hand_over_sample", Body(Subject::kSwab, api::ReadHandOverSample)},
      {"report_result", Body(Subject::kSwab, api::ReadRecordResult)},
      {"correct_result", Body(Subject::kSwab, api::ReadCorrectResult)},
      {"start_isolation", Body(Subject::kPerson, api::ReadOrderIsolation)},
      {"start_quarantine", Body(Subject::kPerson, api::ReadOrderQuarantine)},
      {"end_measure", Body(Subject::kPerson, api::ReadEndMeasure)},
      {"report_contact", Body(Subject::kPerson, api::ReadReportContact)},
      {"hospitalisation", {Subject::kPerson, [](api::JsonFields& f, FieldErrors& e) -> std::variant<domain::PersonCommand, domain::SchoolCommand> {
                             api::HospitalStep step;
                             api::ReadHospitalStep(f, step, e);
                             return api::HospitalCommand(step);
                           }}},
      {"close_case", Body(Subject::kPerson, api::ReadCloseCase)},
      {"erase_personal_data", Body(Subject::kPerson, api::ReadErasePersonalData)},
      {"class_quarantine", Body(Subject::kSchool, api::ReadOrderClassQuarantine)},
  };
  return readers;
}

}  // namespace

std::string ImportCommandNames() {
  std::string out;
  for (const auto& [name, reader] : Readers()) out += (out.empty() ? "" : ", ") + name;
  return out;
}

domain::Result<ImportLine> ParseImportLine(std::string_view text) {
  std::string error;
  auto object = api::ParseJsonObject(text, &error);
  if (!object) return domain::Error::Invalid("", "not a JSON object: " + error);
  FieldErrors errors;
  api::JsonFields fields(*object, errors);
  ImportLine line;
  line.command = fields.String("command").value_or("");
  line.at = fields.Time("recorded_at").value_or(domain::Timestamp{});
  line.actor = fields.String("actor", false).value_or("import");
  if (line.actor.empty() || line.actor.size() > 128) errors.Add("actor", "must be 1 to 128 characters");
  auto reader = Readers().find(line.command);
  if (reader == Readers().end()) {
    if (!line.command.empty()) errors.Add("command", "must be one of " + ImportCommandNames());
    return errors.ToError();
  }
  switch (reader->second.subject) {
    case Subject::kPerson: line.person = fields.String("person").value_or(""); break;
    case Subject::kSwab: line.swab_id = fields.String("swab_id").value_or(""); break;
    case Subject::kSchool: line.school = fields.String("school").value_or(""); break;
  }
  line.body = reader->second.read(fields, errors);
  fields.RejectUnknown();
  if (reader->second.subject == Subject::kPerson && line.person.empty() && errors.empty()) {
    errors.Add("person", "must not be empty");
  }
  if (!errors.empty()) return errors.ToError();
  return line;
}

}  // namespace caseledger::app
