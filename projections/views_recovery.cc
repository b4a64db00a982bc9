// The recovery of the views at open, in the order the checks go: meta and checkpoint, then
// the views' entries, then the registrations count; anything unusable empties the database.
#include "projections/views_recovery.h"

#include "projections/projections_logger.h"
#include "projections/views_layout.h"

#include <charconv>

namespace caseledger::projections {
namespace {

using eventstore::StoreError;
using eventstore::StoreErrorCode;
using eventstore::StoreResult;

std::optional<uint64_t> ParseCount(const std::string& text) {
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return n;
}

}  // namespace

std::string ViewNames(const std::vector<std::unique_ptr<View>>& views) {
  std::string names;
  for (const auto& v : views) names.append(names.empty() ? "" : ",").append(v->name());
  return names;
}

void PutMeta(ViewsDb::Batch& batch, const std::vector<std::unique_ptr<View>>& views) {
  batch.Put(layout::kFormatKey, layout::kFormat);
  batch.Put(layout::kViewsKey, ViewNames(views));
}

StoreResult<ViewsRecovery::Recovered> ViewsRecovery::Run() {
  Recovered out;
  if (options_.created) {
    out.meta_unwritten = true;
    return out;
  }
  auto checkpoint = Checkpoint();
  if (!checkpoint) return checkpoint.error();
  if (*checkpoint) {
    auto loaded = LoadViews(out);
    if (!loaded) return loaded.error();
    if (*loaded) {
      auto registered = Registered();
      if (!registered) return registered.error();
      if (*registered) {
        out.checkpoint = **checkpoint;
        out.registered = **registered;
        return out;
      }
      // The views loaded what a database without its count holds: forget it too.
      if (auto reset = ResetViews(std::string(layout::kRegisteredKey), out); !reset) return reset.error();
    }
  }
  if (auto emptied = Empty(); !emptied) return emptied.error();
  return out;
}

StoreResult<std::optional<uint64_t>> ViewsRecovery::Checkpoint() {
  auto format = db_.Get(layout::kFormatKey);
  if (!format) return format.error();
  auto names = db_.Get(layout::kViewsKey);
  if (!names) return names.error();
  auto checkpoint = db_.Get(layout::kCheckpointKey);
  if (!checkpoint) return checkpoint.error();
  if (!*format || **format != layout::kFormat || !*names || **names != ViewNames(views_) || !*checkpoint) {
    return std::optional<uint64_t>();
  }
  std::optional<uint64_t> at = ParseCount(**checkpoint);
  // Views ahead of the log: the log is the truth, start again from it.
  if (at && !options_.remote_log && *at > options_.committed) at.reset();
  return at;
}

StoreResult<bool> ViewsRecovery::LoadViews(Recovered& out) {
  std::string bad;
  auto scan = db_.ForEach([&](std::string_view key, std::string_view value) {
    if (key.starts_with("meta/") || key == layout::kCheckpointKey) return true;
    bool ok = false;
    size_t slash = key.find('/');
    for (auto& v : views_) {
      if (slash != std::string_view::npos && key.substr(0, slash) == v->name()) {
        ok = v->Load(key.substr(slash + 1), value);
        break;
      }
    }
    if (!ok) bad = std::string(key);
    return ok;
  }, {layout::kPeoplePrefix, layout::kIndexPrefix});
  if (!scan) return scan.error();
  if (bad.empty()) return true;
  if (auto reset = ResetViews(bad, out); !reset) return reset.error();
  return false;
}

StoreResult<void> ViewsRecovery::ResetViews(const std::string& bad, Recovered& out) {
  ProjectionsLog()->warn("views entry {} does not load; rebuilding the views from the log", bad);
  for (auto& v : views_) {
    if (!v->Reset()) {
      return StoreError(StoreErrorCode::kCorruption,
                        "views entry " + bad + " does not load and view " + std::string(v->name()) +
                            " cannot be rebuilt in place; delete " + options_.path);
    }
  }
  out.reset = true;
  return {};
}

StoreResult<std::optional<uint64_t>> ViewsRecovery::Registered() {
  auto count = db_.Get(layout::kRegisteredKey);
  if (!count) return count.error();
  if (!*count) return std::optional<uint64_t>(0);
  return ParseCount(**count);
}

StoreResult<void> ViewsRecovery::Empty() {
  if (auto dropped = db_.DropAll(); !dropped) return dropped.error();
  ViewsDb::Batch meta;
  PutMeta(meta, views_);
  meta.Put(layout::kCheckpointKey, "0");
  return db_.Write(meta, true);
}

}  // namespace caseledger::projections
