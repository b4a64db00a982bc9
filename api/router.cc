#include "api/router.h"

namespace caseledger::api {

// One path segment of Request::path as the client meant it: ParseTarget (http.cc) leaves
// "%2F" and "%25" escaped in the path so that a '/' inside a segment does not split it;
// "ext%2Fbob" -> "ext/bob". A parameter thus holds a '/' sent escaped
// ("/v1/grants/ext%2Fbob/auditor": user "ext/bob").
std::string DecodeSegment(std::string_view segment);

void Router::Add(Route route) { routes_.push_back(std::move(route)); }

bool Router::MatchPattern(const std::string& pattern, const std::string& path,
                          std::map<std::string, std::string>& params) {
  size_t p = 0, s = 0;
  while (p < pattern.size() && s <= path.size()) {
    if (pattern[p] == '{') {
      size_t close = pattern.find('}', p);
      std::string name = pattern.substr(p + 1, close - p - 1);
      size_t end = s;
      // A parameter runs to the next '/', or to the literal that follows it in the
      // pattern within this segment (as in "/v1/results:batch").
      char stop = close + 1 < pattern.size() ? pattern[close + 1] : '/';
      while (end < path.size() && path[end] != '/' && path[end] != stop) ++end;
      if (end == s) return false;
      params[name] = DecodeSegment(std::string_view(path).substr(s, end - s));
      s = end;
      p = close + 1;
    } else {
      if (s >= path.size() || pattern[p] != path[s]) return false;
      ++p;
      ++s;
    }
  }
  return p == pattern.size() && s == path.size();
}

Router::Match Router::Find(Method method, const std::string& path) const {
  Match m;
  m.status = 404;
  for (const Route& r : routes_) {
    std::map<std::string, std::string> params;
    if (!MatchPattern(r.pattern, path, params)) continue;
    if (r.method == method || (method == Method::kHead && r.method == Method::kGet)) {
      m.route = &r;
      m.params = std::move(params);
      m.status = 0;
      return m;
    }
    m.status = 405;
    if (!m.allow.empty()) m.allow += ", ";
    m.allow += ToString(r.method);
  }
  return m;
}

}  // namespace caseledger::api
