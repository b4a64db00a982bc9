// caseledger replay --data DIR --rules FILE [--effective-from DATE] [--views a,b]
//   [--until POSITION|TIME] [--on DATE] [--format text|json] [--adopt]
// What-if: rebuilds the views under the rules of the log and under the candidate set,
// prints the diff (replay/what_if.h). --adopt then records the set and switches the views
// blue-green (serving/live_views.h) — the same code the server runs for POST /v1/rules.
// Works on a stopped server's data (the store admits one process); while serving, adopt
// through POST /v1/rules.
#include "app/commands.h"
#include "app/data_store.h"
#include "app/flags.h"
#include "app/reference_files.h"
#include "eventstore/event_store.h"
#include "serving/live_views.h"
#include "replay/log_time.h"
#include "serving/rule_adoption.h"
#include "projections/view_set.h"

#include <boost/json.hpp>

#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace caseledger::app {
namespace {

std::optional<std::string> ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::optional<uint64_t> ParsePosition(const std::string& s) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

int RunReplay(const Args& args) {
  Flags flags(args, {"data", "rules", "effective-from", "views", "until", "on", "format", "reference", "memory-budget"},
              {"adopt", "full"});
  if (!flags.ok()) return UsageError(flags.error());
  auto data = flags.Get("data");
  auto rules_file = flags.Get("rules");
  if (!data || !rules_file) return UsageError("replay needs --data DIR and --rules FILE");
  const std::string format = flags.GetOr("format", "text");
  if (format != "text" && format != "json") return UsageError("--format must be text or json");
  const bool adopt = flags.Has("adopt");
  if (adopt && (flags.Has("views") || flags.Has("until"))) {
    return UsageError("--adopt rebuilds every view over the whole log: drop --views and --until");
  }
  std::vector<std::string> views;
  if (auto list = flags.Get("views")) {
    auto parsed = projections::ParseViewNames(*list);
    if (!parsed) return UsageError(parsed.error().message);
    views = std::move(*parsed);
  }
  std::optional<domain::Date> on;
  if (auto d = flags.Get("on")) {
    on = domain::Date::Parse(*d);
    if (!on) return UsageError("--on must be a date YYYY-MM-DD");
  }
  auto text = ReadText(*rules_file);
  if (!text) return UsageError("cannot read " + *rules_file);
  if (auto from = flags.Get("effective-from")) {
    // What-if "these rules had applied from another day": the same set, re-dated.
    if (!domain::Date::Parse(*from)) return UsageError("--effective-from must be a date YYYY-MM-DD");
    boost::system::error_code ec;
    auto doc = boost::json::parse(*text, ec);
    if (ec || !doc.is_object()) return Failure(*rules_file + " is not a JSON object");
    doc.as_object()["effective_from"] = *from;
    text = boost::json::serialize(doc);
  }
  auto candidate = domain::RuleSet::Parse(*text);
  if (!candidate) return Failure(*rules_file + ": " + candidate.error().message);
  auto reference = LoadReferenceData(flags.GetOr("reference", DefaultReferenceDir()));
  if (!reference) return Failure(reference.error().message);

  std::string error;
  auto store = OpenDataStore(*data, &error, "");
  if (!store) return Failure(error);
  uint64_t until = 0;
  if (auto u = flags.Get("until")) {
    if (auto p = ParsePosition(*u)) {
      until = *p;
      if (until == 0 || until > store->CommittedPosition()) {
        return UsageError("--until " + *u + " is not a position of the log (1.." +
                          std::to_string(store->CommittedPosition()) + ")");
      }
    } else if (auto t = domain::Timestamp::Parse(*u)) {
      auto p = replay::LastPositionRecordedBy(*store, *t);
      if (!p) return Failure(p.error().message);
      if (*p == 0) return Failure("nothing was recorded by " + *u);
      until = *p;
    } else {
      return UsageError("--until must be a position or an RFC 3339 time");
    }
  }

  size_t budget_mib = 0;
  if (auto b = flags.Get("memory-budget")) {
    auto n = ParsePosition(*b);
    if (!n || *n == 0 || *n > (size_t{1} << 20)) return UsageError("--memory-budget takes MiB, 1 to 1048576");
    budget_mib = *n;
  }

  replay::WhatIfOptions o;
  o.work_dir = *data;
  o.memory_budget = budget_mib << 20;
  o.reference = *reference;
  o.candidate = std::make_shared<const domain::RuleSet>(std::move(*candidate));
  o.views = views;
  o.until = until;
  o.on = on;
  o.progress = [](const std::string& line) { std::cerr << "replay: " << line << "\n"; };
  // The incremental what-if's base: the live views (DIR/views.live), caught up with the log;
  // the full one (--full, or --until before the log's end) needs none. --adopt switches the
  // same views afterwards.
  serving::LiveViewsOptions lo;
  lo.data_dir = *data;
  lo.reference = *reference;
  lo.rebuild_nice = 0;
  std::unique_ptr<serving::LiveViews> live;
  if (flags.Has("full") || until != 0) o.method = replay::WhatIfOptions::Method::kFull;
  if (o.method == replay::WhatIfOptions::Method::kIncremental || adopt) {
    std::cerr << "replay: opening the live views\n";
    auto opened = serving::LiveViews::Open(*store, lo);
    if (!opened) return Failure("cannot open the views: " + opened.error().message);
    live = std::move(*opened);
  }
  auto report = serving::WhatIfOverLiveViews(*store, live.get(), o);
  if (!report) return Failure("what-if failed: " + report.error().message);
  if (format == "json") {
    std::cout << boost::json::serialize(replay::WhatIfJson(*report)) << "\n";
  } else {
    std::cout << replay::WhatIfText(*report);
  }
  if (!adopt) return 0;

  replay::RecordOptions record;
  const char* user = std::getenv("USER");
  record.actor = {std::string("cli:") + (user ? user : "unknown"), "admin"};
  record.correlation_id = "caseledger-replay-adopt";
  auto recorded = serving::AdoptRuleSet(*store, *o.candidate, record, live.get());
  if (!recorded) return Failure("cannot record the rule set: " + recorded.error().message);
  std::cerr << "replay: recorded " << o.candidate->id() << " at position " << recorded->last_position
            << "; rebuilding the views\n";
  while (!live->WaitIdle(std::chrono::seconds(10))) std::cerr << "replay: still rebuilding\n";
  auto status = live->status();
  if (!status.error.empty() || live->Current()->rules_position != recorded->last_position) {
    return Failure("the rule set is recorded but the views were not switched: " + status.error +
                   " (the next start of the server rebuilds them)");
  }
  std::cerr << "replay: adopted; the views in " << live->Current()->dir << " are live\n";
  return 0;
}

}  // namespace caseledger::app
