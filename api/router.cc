#include "api/router.h"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string_view>
#include <utility>

namespace caseledger::api {

// One path segment of Request::path as the client meant it: ParseTarget (http.cc) leaves
// "%2F" and "%25" escaped in the path so that a '/' inside a segment does not split it;
// "ext%2Fbob" -> "ext/bob". A parameter thus holds a '/' sent escaped
// ("/v1/grants/ext%2Fbob/auditor": user "ext/bob").
std::string DecodeSegment(std::string_view segment);

namespace {

// The path up to its third '/': "/v1/people/01H.../swabs" -> "/v1/people", "/healthz" ->
// "/healthz". A pattern and a path it matches have the same head when the pattern's head
// has no parameter: its literal characters must all be there.
std::string_view Head(std::string_view path) {
  size_t second = path.find('/', 1);
  if (second == std::string_view::npos) return path;
  size_t third = path.find('/', second + 1);
  return third == std::string_view::npos ? path : path.substr(0, third);
}

}  // namespace

const std::string* PathParams::Find(std::string_view name) const {
  for (const Param& param : params_) {
    if (param.name == name) return &param.value;
  }
  return nullptr;
}

const std::string& PathParams::at(std::string_view name) const {
  if (const std::string* value = Find(name)) return *value;
  throw std::out_of_range("no path parameter " + std::string(name));
}

bool PathParams::Add(std::string_view name, std::string value) {
  if (params_.size() == kMax) return false;
  params_.push_back(Param{name, std::move(value)});
  return true;
}

void Router::Add(Route route) {
  if (static_cast<size_t>(std::count(route.pattern.begin(), route.pattern.end(), '{')) > PathParams::kMax) {
    throw std::invalid_argument("route " + route.pattern + " has more path parameters than PathParams holds");
  }
  const std::string_view head = Head(route.pattern);
  if (head.find('{') == std::string_view::npos) {
    by_head_[std::string(head)].routes.push_back(routes_.size());
  } else {
    open_.push_back(routes_.size());
  }
  routes_.push_back(std::move(route));
  Index();
}

namespace {

bool Accepts(const Route& r, Method method) {
  return r.method == method || (method == Method::kHead && r.method == Method::kGet);
}

}  // namespace

std::vector<Router::Candidate> Router::Accepting(const std::vector<size_t>* head, Method method) const {
  static const std::vector<size_t> kNone;
  const std::vector<size_t>& headed = head ? *head : kNone;
  std::vector<Candidate> out;
  size_t h = 0, o = 0;
  while (h < headed.size() || o < open_.size()) {
    const bool of_head = o == open_.size() || (h < headed.size() && headed[h] < open_[o]);
    const size_t i = of_head ? headed[h++] : open_[o++];
    if (Accepts(routes_[i], method)) out.push_back({i, of_head});
  }
  return out;
}

// Quadratic in the routes, once per route added at startup (~100 routes): what each
// request saves is walking past every route of its head that takes another method.
void Router::Index() {
  for (size_t m = 0; m < kMethods; ++m) {
    open_accepting_[m] = Accepting(nullptr, static_cast<Method>(m));
    for (auto& [head, bucket] : by_head_) bucket.accepting[m] = Accepting(&bucket.routes, static_cast<Method>(m));
  }
}

bool Router::MatchPattern(const std::string& pattern, const std::string& path, PathParams& params, size_t from) {
  // Nothing is allocated until the whole pattern matched: every request is tried against
  // the routes before its own, and most fail on their first literal.
  constexpr size_t kMaxParams = PathParams::kMax;
  std::array<std::pair<std::string_view, std::string_view>, kMaxParams> found;
  size_t count = 0;
  const std::string_view pat(pattern), at(path);
  // A pattern ending in a literal matches only paths that end in it: the routes of one
  // head mostly differ in their last segment ("/v1/swabs/{swab}/collection", ".../result"),
  // which is compared first, not after a parameter (an id of 20-odd characters) was
  // scanned for each of them.
  const size_t last = pat.rfind('}');
  if (last != std::string_view::npos && !at.ends_with(pat.substr(last + 1))) return false;
  size_t p = from, s = from;
  while (p < pat.size() && s <= at.size()) {
    if (pat[p] == '{') {
      size_t close = pat.find('}', p);
      size_t end = s;
      // A parameter runs to the next '/', or to the literal that follows it in the
      // pattern within this segment (as in "/v1/results:batch").
      char stop = close + 1 < pat.size() ? pat[close + 1] : '/';
      while (end < at.size() && at[end] != '/' && at[end] != stop) ++end;
      if (end == s || count == kMaxParams) return false;
      found[count++] = {pat.substr(p + 1, close - p - 1), at.substr(s, end - s)};
      s = end;
      p = close + 1;
    } else {
      if (s >= at.size() || pat[p] != at[s]) return false;
      ++p;
      ++s;
    }
  }
  if (p != pat.size() || s != at.size()) return false;
  for (size_t i = 0; i < count; ++i) params.Add(found[i].first, DecodeSegment(found[i].second));
  return true;
}

Router::Match Router::Find(Method method, const std::string& path) const {
  Match m;
  m.status = 404;
  const std::string_view head = Head(path);
  auto bucket = by_head_.find(head);
  const size_t method_index = static_cast<size_t>(method);
  // The routes of this head and the open ones, in the order they were added: first those
  // of the request's method (the route found is the first of them that matches, as if
  // every route were tried in order), then, for a 404 or 405, every one. A route of the
  // head's bucket has the path's head as its own, literally: matched from past it.
  const std::vector<Candidate>& accepting =
      bucket == by_head_.end() ? open_accepting_[method_index] : bucket->second.accepting[method_index];
  PathParams params;
  for (const Candidate& c : accepting) {
    params.Clear();
    if (!MatchPattern(routes_[c.route].pattern, path, params, c.of_head ? head.size() : 0)) continue;
    m.route = &routes_[c.route];
    m.params = std::move(params);
    m.status = 0;
    return m;
  }
  static const std::vector<size_t> kNone;
  const std::vector<size_t>& headed = bucket == by_head_.end() ? kNone : bucket->second.routes;
  size_t h = 0, o = 0;
  while (h < headed.size() || o < open_.size()) {
    const bool of_head = o == open_.size() || (h < headed.size() && headed[h] < open_[o]);
    const Route& r = routes_[of_head ? headed[h++] : open_[o++]];
    if (Accepts(r, method)) continue;  // tried above
    params.Clear();
    if (!MatchPattern(r.pattern, path, params, of_head ? head.size() : 0)) continue;
    m.status = 405;
    if (!m.allow.empty()) m.allow += ", ";
    m.allow += ToString(r.method);
  }
  return m;
}

}  // namespace caseledger::api
