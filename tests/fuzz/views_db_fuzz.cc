// Opening the views database (projections/view_runner.h): the entries each view restores
// with Load and the person directory's records, whatever bytes the database holds, then a
// Publish of what was restored, as the runner does before serving. Input: entries of
// [u16 key length][key "<view>/<key>" or "people/<id>"][u16 value length][value], little
// endian. A view refusing an entry is the runner's cue to rebuild; nothing may crash.
#include "domain/reference.h"
#include "domain/rules.h"
#include "projections/gp_view.h"
#include "projections/lab_view.h"
#include "projections/municipality_view.h"
#include "projections/person_directory.h"
#include "projections/person_entry.h"
#include "projections/region_view.h"
#include "projections/school_view.h"
#include "tests/fuzz/fuzz_target.h"
#include "tests/support/build_paths.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <vector>

namespace {

namespace domain = caseledger::domain;
namespace projections = caseledger::projections;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The shipped reference data and rule sets, as serve loads them.
std::shared_ptr<const domain::ReferenceData> Reference() {
  static const auto reference = [] {
    const std::string dir = caseledger::TestSourceDir() + "/ops/reference/";
    auto parsed = domain::ReferenceData::Parse(ReadFile(dir + "istat-comuni.csv"), ReadFile(dir + "piemonte-asl.csv"));
    FUZZ_CHECK(parsed.has_value());
    return *parsed;
  }();
  return reference;
}

std::shared_ptr<const domain::RuleBook> Rules() {
  static const auto rules = [] {
    auto book = std::make_shared<domain::RuleBook>();
    for (const auto& f : std::filesystem::directory_iterator(caseledger::TestSourceDir() + "/ops/rules")) {
      if (f.path().extension() != ".json") continue;
      auto set = domain::RuleSet::Parse(ReadFile(f.path().string()));
      FUZZ_CHECK(set.has_value());
      FUZZ_CHECK(book->Add(std::move(set).value()).has_value());
    }
    return std::shared_ptr<const domain::RuleBook>(std::move(book));
  }();
  return rules;
}

bool Take(std::string_view& in, std::string_view& out) {
  if (in.size() < 2) return false;
  const size_t n = std::min<size_t>(in.size() - 2, uint8_t(in[0]) | (size_t(uint8_t(in[1])) << 8));
  out = in.substr(2, n);
  in.remove_prefix(2 + n);
  return true;
}

}  // namespace

CASELEDGER_FUZZ_TARGET(views_db) {
  std::vector<std::unique_ptr<projections::View>> views;
  views.push_back(std::make_unique<projections::MunicipalityView>(Reference()));
  views.push_back(std::make_unique<projections::RegionView>(Reference()));
  views.push_back(std::make_unique<projections::LabView>());
  views.push_back(std::make_unique<projections::GpView>(Rules()));
  views.push_back(std::make_unique<projections::SchoolView>(Rules()));
  projections::PersonDirectory people(Rules());
  std::string_view in = caseledger::fuzz::AsText(data, size);
  std::string_view key, value;
  bool loaded = true;
  while (Take(in, key) && Take(in, value)) {
    const size_t slash = key.find('/');
    if (slash == std::string_view::npos) continue;
    const std::string_view name = key.substr(0, slash), rest = key.substr(slash + 1);
    if (name == "people") {
      (void)projections::LoadPersonEntry(rest, value, people, {});
      continue;
    }
    for (auto& view : views) {
      if (view->name() == name) loaded = view->Load(rest, value) && loaded;
    }
  }
  // The runner serves what loaded; what did not is reset and rebuilt from the log.
  for (auto& view : views) {
    if (!loaded) FUZZ_CHECK(view->Reset());
    view->Publish(1);
  }
  return 0;
}
