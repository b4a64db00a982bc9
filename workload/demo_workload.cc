#include "workload/demo_workload.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "workload/demo_simulation.h"
#include "domain/event_codec.h"

namespace caseledger::workload {

using domain::Date;
using domain::Outcome;
using domain::SwabKind;
using domain::Timestamp;

namespace {

constexpr int64_t kMinute = 60'000'000;

Timestamp Plus(Timestamp t, int minutes) { return {t.micros + minutes * kMinute}; }

}  // namespace

DemoSimulation::DemoSimulation(std::shared_ptr<const domain::ReferenceData> reference,
                               ScaledSeries series, DemoOptions options)
    : reference_(std::move(reference)),
      series_(std::move(series)),
      options_(std::move(options)),
      random_(options_.seed),
      factory_(*reference_, random_),
      appender_(reference_.get(), {"demo-loader", "operator"}, options_.appenders),
      people_(*reference_, options_.spill_dir.empty() ? "" : options_.spill_dir + "/people.spill",
              options_.people_in_memory) {
  if (options_.sink && options_.sink_batch > 0) appender_.HandOffEvery(options_.sink_batch, options_.sink);
  if (options_.sink) appender_.NameStreamsOnce();
}

bool DemoSimulation::Apply(size_t person, const domain::PersonCommand& command, Timestamp now) {
  if (people_.Dormant(person)) {
    // A light person's state holds only the swabs since it was set aside: what a re-test's
    // three commands read (demo_person_store.h). Anything else would be decided on a partial
    // state, with events that could differ from the whole state's: stop instead.
    const auto* result = std::get_if<domain::RecordResult>(&command);
    const bool retest = std::holds_alternative<domain::RequestSwab>(command) ||
                        std::holds_alternative<domain::CollectSwab>(command) ||
                        (result && result->outcome == Outcome::kNegative);
    if (!retest) {
      std::fprintf(stderr, "demo workload: person %zu was set aside as dormant and is given command %zu\n", person,
                   command.index());
      std::abort();
    }
  }
  DemoPerson& p = people_[person];
  const bool applied = appender_.Apply(p.state, p.id, person + 1, command, now);
  // The commands after which nothing may be running for the person any more.
  if (applied && (std::holds_alternative<domain::RecordResult>(command) ||
                  std::holds_alternative<domain::EndMeasure>(command) ||
                  std::holds_alternative<domain::CloseCase>(command))) {
    people_.MaybeDormant(person);
  }
  return applied;
}

Timestamp DemoSimulation::At(Date d, int from_minute, int to_minute) {
  Timestamp t = LocalTime(d, static_cast<int>(random_.Between(from_minute, to_minute - 1)));
  return {t.micros + static_cast<int64_t>(random_.Below(60)) * 1'000'000};
}

size_t DemoSimulation::Register(Timestamp at, const domain::Municipality* residence,
                                std::string_view family_name) {
  const Resident r = factory_.Make(at, residence, family_name);
  DemoPerson person;
  person.id = r.id;
  person.residence = r.residence;
  person.age = r.age;
  person.family_name = r.registration.family_name;
  const size_t p = people_.Add(std::move(person));
  ++report_.people;
  Apply(p, r.registration, at);
  Apply(p, r.gp, Plus(at, 1));
  if (r.school) Apply(p, *r.school, Plus(at, 2));
  return p;
}

std::optional<Timestamp> DemoSimulation::Swab(size_t p, Timestamp collected, SwabKind kind,
                                              const std::string& reason, Outcome outcome,
                                              bool report_today) {
  const Date d = collected.ToDate();
  std::string day = d.ToString();
  day.erase(std::remove(day.begin(), day.end(), '-'), day.end());
  std::string id = "DM" + day + "-" + std::to_string(++swab_sequence_);
  Apply(p, domain::RequestSwab{id, kind, reason, people_[p].state.gp_id, {}},
        Plus(collected, -10));
  Apply(p,
        domain::CollectSwab{id, collected, "Punto prelievi " + people_[p].residence->name,
                            "LAB-" + people_[p].residence->asl},
        collected);
  DemoPerson& person = people_[p];
  person.swabbed_on = d;
  if (!person.tested) {
    person.tested = true;
    tested_.push_back(p);
    if (in_range_) ++newly_tested_;
  }
  if (in_range_) {
    ++swabs_;
    ++report_.swabs;
    if (kind == SwabKind::kAntigen) ++antigen_swabs_;
  }
  if (!report_today) {
    pending_.push_back({p, std::move(id), outcome});
    return std::nullopt;
  }
  return Report(p, id, outcome, At(d, 13 * 60, 20 * 60));
}

Timestamp DemoSimulation::Report(size_t p, const std::string& swab_id, Outcome outcome,
                                 Timestamp at) {
  Apply(p, domain::RecordResult{swab_id, outcome, "LAB-" + people_[p].residence->asl, at},
        at);
  if (outcome == Outcome::kPositive) {
    if (in_range_) {
      ++positives_;
      ++report_.positives;
    }
    OnPositive(p, at);
  }
  return at;
}

void DemoSimulation::OnPositive(size_t p, Timestamp reported) {
  const Date collected = people_[p].state.last_positive.value_or(reported.ToDate());
  people_[p].positive_day = collected;
  Apply(p, domain::OrderIsolation{collected, "positive", std::nullopt}, Plus(reported, 5));
  open_.push_back({p, collected, people_[p].age, CareOf(p)});
  people_[p].quarantine_listed = false;
  if (!in_range_) return;
  if (report_.example_person_id.empty()) {
    report_.example_person_id = people_[p].id;
    report_.example_tax_code = people_[p].state.personal.tax_code;
  }
  // Close contacts: the household first (same name and town), then others.
  const std::string case_id = people_[p].id;
  const std::string family = people_[p].family_name;
  const domain::Municipality* town = people_[p].residence;
  const int64_t contacts = random_.Between(1, 3);
  for (int64_t i = 0; i < contacts; ++i) {
    const Timestamp at = Plus(reported, 30 + 10 * static_cast<int>(i));
    const bool household = random_.Chance(0.5);
    const size_t c = Register(at, household || random_.Chance(0.6) ? town : nullptr,
                              household ? family : std::string_view{});
    Apply(c, domain::ReportContact{case_id, collected}, Plus(at, 2));
    Apply(c, domain::OrderQuarantine{collected, "close_contact", case_id, std::nullopt},
          Plus(at, 3));
    people_[c].quarantine_start = collected;
    people_[c].quarantine_listed = true;
    quarantined_.push_back(c);
  }
}

void DemoSimulation::SeedOpenCases() {
  const int64_t n = series_.open_cases_before;
  for (int64_t i = 0; i < n; ++i) {
    people_.Trim();
    const Date day = series_.days.front().day + static_cast<int32_t>(-14 + i * 14 / n);
    const Timestamp collected = At(day, 9 * 60 + 20, 12 * 60);
    const size_t p = Register(Plus(collected, -20), nullptr, {});
    Swab(p, collected, SwabKind::kMolecular, "symptoms", Outcome::kPositive, true);
  }
  FollowHospitalLevels(series_.days.front().day + -1, series_.ward_before, series_.icu_before);
}

std::string DemoSimulation::Facility(size_t p) {
  return "Presidio ospedaliero ASL " + people_[p].residence->asl;
}

DemoSimulation::Care DemoSimulation::CareOf(size_t p) {
  const domain::PersonState& s = people_[p].state;
  return s.in_icu ? Care::kIcu : s.hospitalized ? Care::kWard : Care::kHome;
}

eventstore::StoreResult<DemoReport> DemoSimulation::LoadInto(eventstore::EventStore& store) {
  const auto start = std::chrono::steady_clock::now();
  appender_.ResumeAfter(options_.resume_after);
  if (auto opened = people_.Open(); !opened) return opened.error();
  if (!options_.admin_subject.empty()) {
    domain::EncodedEvent enc =
        domain::Encode(domain::AccessGranted{options_.admin_subject, "admin", ""});
    eventstore::AppendRequest grant;
    grant.stream = std::string(domain::kUsersStream);
    grant.actor = {"demo-loader", "admin"};
    grant.events.push_back({std::move(enc.type), enc.schema_version, std::move(enc.body),
                            std::move(enc.personal),
                            LocalTime(series_.days.front().day + -15, 8 * 60)});
    appender_.Queue(std::move(grant));
  }
  auto flush = [&] { return options_.sink ? appender_.FlushTo(options_.sink) : appender_.Flush(store); };
  SeedOpenCases();
  // The cases open before the range, and the hospital levels of its eve, are appended
  // before its first day, on their own: in one flush with that day's commands, spread over
  // the appenders, their order against the first day's events of other streams was the
  // threads' scheduling (an appender holding only admissions of the eve, run last, put
  // them after the first day's last move: DemoHospitalLevelsTest, under load).
  if (auto flushed = flush(); !flushed) return flushed.error();
  in_range_ = true;
  for (size_t k = 0; k < series_.days.size(); ++k) {
    RunDay(k);
    auto flushed = flush();
    if (!flushed) return flushed.error();
    if (options_.on_day) options_.on_day(series_.days[k].day, appender_.counts().events);
  }
  const ScaledDay& last = series_.days.back();
  report_.days = static_cast<int>(series_.days.size());
  report_.commands = appender_.counts().commands;
  report_.events = appender_.counts().events;
  report_.rejected = appender_.counts().rejected;
  report_.first_rejections = appender_.counts().first_rejections;
  report_.swabs_short = last.swabs - swabs_;
  report_.positives_short = last.new_positives - positives_;
  report_.recoveries_short = last.recoveries - recoveries_;
  report_.deaths_short = last.deaths - deaths_;
  report_.people_written_out = people_.stats().written;
  report_.people_read_back = people_.stats().read;
  report_.people_moved = people_.stats().moved;
  report_.spill_file_bytes = people_.stats().file_bytes;
  report_.spill_batches = people_.stats().batches;
  report_.people_set_aside = people_.set_aside();
  report_.people_light = people_.light_made();
  report_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report_;
}

DemoWorkload::DemoWorkload(std::shared_ptr<const domain::ReferenceData> reference,
                           ScaledSeries series, DemoOptions options)
    : simulation_(std::make_unique<DemoSimulation>(std::move(reference), std::move(series),
                                                   std::move(options))) {}

DemoWorkload::~DemoWorkload() = default;

eventstore::StoreResult<DemoReport> DemoWorkload::LoadInto(eventstore::EventStore& store) {
  return simulation_->LoadInto(store);
}

std::optional<DemoReport> LoadDemoWorkload(eventstore::EventStore& store,
                                           std::shared_ptr<const domain::ReferenceData> reference,
                                           const std::string& reference_dir,
                                           const DemoOptions& options, std::string* error) {
  const std::string path = reference_dir + "/dpc-piemonte-daily.csv";
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (!in.is_open() || !(text << in.rdbuf())) {
    *error = "cannot read " + path;
    return std::nullopt;
  }
  auto series = ParseDpcDaily(text.str());
  if (!series) {
    *error = path + ": " + series.error().message;
    return std::nullopt;
  }
  auto scaled = ScaleSeries(*series, options.from, options.to, options.scale);
  if (!scaled) {
    *error = scaled.error().message;
    return std::nullopt;
  }
  DemoWorkload workload(std::move(reference), std::move(*scaled), options);
  auto report = workload.LoadInto(store);
  if (!report) {
    *error = "demo load failed: " + report.error().message;
    return std::nullopt;
  }
  return *report;
}

}  // namespace caseledger::workload
